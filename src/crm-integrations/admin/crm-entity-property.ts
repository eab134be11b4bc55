import type { EntityProperty } from '@mikro-orm/core';
import type { PropertyType } from 'adminjs';
import type { AdminJsRuntime } from './adminjs-runtime';
import { isJsonProperty, isReference } from './crm-resource-policy';

/** The AdminJS property class for the plugin's entities, on the AdminJS modules loaded at run time. */
export function defineCrmProperty(runtime: AdminJsRuntime) {
  const { BaseProperty } = runtime.adminjs;
  const { DATA_TYPES } = runtime.mikroOrm;

  /** A MikroORM property as AdminJS sees it; the column type mapping is @adminjs/mikroorm's own. */
  return class CrmProperty extends BaseProperty {
    constructor(
      private readonly entityProperty: EntityProperty,
      private readonly index: number,
      private readonly referenceIds: ReadonlyMap<string, string>,
      private readonly editableId: boolean,
      private readonly required: boolean,
      private readonly systemSet: boolean,
    ) {
      super({ path: entityProperty.name });
    }

    override isId(): boolean {
      return !!this.entityProperty.primary;
    }

    override isEditable(): boolean {
      if (this.isId()) return this.editableId;
      return !this.systemSet && !['createdAt', 'updatedAt'].includes(this.entityProperty.name);
    }

    /** Required in the form only when neither the database nor the entity fills it in. */
    override isRequired(): boolean {
      return this.required;
    }

    override isSortable(): boolean {
      return !isJsonProperty(this.entityProperty) && !isReference(this.entityProperty);
    }

    override position(): number {
      return this.index;
    }

    override reference(): string | null {
      if (!isReference(this.entityProperty)) return null;
      const target = this.entityProperty.targetMeta?.className ?? this.entityProperty.type;
      return this.referenceIds.get(target) ?? null;
    }

    // JSON columns are shown and edited as JSON text: AdminJS's 'mixed' needs sub-properties declared up front.
    override type(): PropertyType {
      if (isReference(this.entityProperty)) return 'reference';
      if (isJsonProperty(this.entityProperty)) return 'textarea';
      const column = this.entityProperty.columnTypes?.[0] ?? '';
      return DATA_TYPES[column] ?? DATA_TYPES[this.entityProperty.type] ?? 'string';
    }
  };
}
