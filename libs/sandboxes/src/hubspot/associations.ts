// Associations between records, with HubSpot's association type ids.
// Follows https://developers.hubspot.com/docs/api/crm/associations/v4 (default/unlabeled and primary type ids
// listed under "Association type id values").
import { HubSpotObjectType, OBJECT_TYPE_INFO } from './object-types';

export type AssociationCategory = 'HUBSPOT_DEFINED' | 'USER_DEFINED' | 'INTEGRATOR_DEFINED';

export interface AssociationTypeDefinition {
  from: HubSpotObjectType;
  to: HubSpotObjectType;
  typeId: number;
  /** The v3 name shown under `associations` on a record (`contact_to_company_unlabeled`). */
  v3Name: string;
  /** v4 label; null for the unlabeled default, "Primary" for the primary company. */
  label: string | null;
  /** The type the v4 "default" endpoints create. */
  isDefault: boolean;
  /** The type id of the same association seen from the other side. */
  inverseTypeId: number;
}

const DEFINITIONS: AssociationTypeDefinition[] = [
  {
    from: 'contacts',
    to: 'companies',
    typeId: 279,
    v3Name: 'contact_to_company_unlabeled',
    label: null,
    isDefault: true,
    inverseTypeId: 280,
  },
  {
    from: 'companies',
    to: 'contacts',
    typeId: 280,
    v3Name: 'company_to_contact_unlabeled',
    label: null,
    isDefault: true,
    inverseTypeId: 279,
  },
  {
    from: 'contacts',
    to: 'companies',
    typeId: 1,
    v3Name: 'contact_to_company',
    label: 'Primary',
    isDefault: false,
    inverseTypeId: 2,
  },
  {
    from: 'companies',
    to: 'contacts',
    typeId: 2,
    v3Name: 'company_to_contact',
    label: 'Primary',
    isDefault: false,
    inverseTypeId: 1,
  },
  {
    from: 'emails',
    to: 'contacts',
    typeId: 198,
    v3Name: 'email_to_contact',
    label: null,
    isDefault: true,
    inverseTypeId: 197,
  },
  {
    from: 'contacts',
    to: 'emails',
    typeId: 197,
    v3Name: 'contact_to_email',
    label: null,
    isDefault: true,
    inverseTypeId: 198,
  },
  {
    from: 'emails',
    to: 'companies',
    typeId: 186,
    v3Name: 'email_to_company',
    label: null,
    isDefault: true,
    inverseTypeId: 185,
  },
  {
    from: 'companies',
    to: 'emails',
    typeId: 185,
    v3Name: 'company_to_email',
    label: null,
    isDefault: true,
    inverseTypeId: 186,
  },
];

export function associationType(
  from: HubSpotObjectType,
  typeId: number,
): AssociationTypeDefinition | undefined {
  return DEFINITIONS.find((definition) => definition.from === from && definition.typeId === typeId);
}

export function defaultAssociationType(
  from: HubSpotObjectType,
  to: HubSpotObjectType,
): AssociationTypeDefinition | undefined {
  return DEFINITIONS.find(
    (definition) => definition.from === from && definition.to === to && definition.isDefault,
  );
}

/** One record's association to another, with every type id that links them (seen from `from`). */
export interface AssociationEdge {
  fromType: HubSpotObjectType;
  fromId: string;
  toType: HubSpotObjectType;
  toId: string;
  typeIds: number[];
}

function recordKey(type: HubSpotObjectType, id: string): string {
  return `${type}:${id}`;
}

/** Both directions of every association in one portal. */
export class AssociationStore {
  /** fromKey → toKey → type ids (seen from the `from` side). */
  private readonly edges = new Map<string, Map<string, Set<number>>>();

  /**
   * Links two records with `typeId` (seen from `from`) and the inverse type on the other side.
   * Returns false when the type does not connect these object types.
   */
  add(
    fromType: HubSpotObjectType,
    fromId: string,
    toType: HubSpotObjectType,
    toId: string,
    typeId: number,
  ): boolean {
    const definition = associationType(fromType, typeId);
    if (!definition || definition.to !== toType) return false;
    this.link(fromType, fromId, toType, toId, typeId);
    this.link(toType, toId, fromType, fromId, definition.inverseTypeId);
    // A primary company association also carries the unlabeled one, as in HubSpot.
    if (!definition.isDefault) {
      const unlabeled = defaultAssociationType(fromType, toType);
      if (unlabeled) this.add(fromType, fromId, toType, toId, unlabeled.typeId);
    }
    return true;
  }

  /** Removes every association between the two records (both directions). */
  remove(fromType: HubSpotObjectType, fromId: string, toType: HubSpotObjectType, toId: string): boolean {
    const forward = this.edges.get(recordKey(fromType, fromId))?.delete(recordKey(toType, toId)) ?? false;
    this.edges.get(recordKey(toType, toId))?.delete(recordKey(fromType, fromId));
    return forward;
  }

  /** Drops every association of a record (it was archived). */
  removeRecord(type: HubSpotObjectType, id: string): void {
    const key = recordKey(type, id);
    const targets = this.edges.get(key);
    if (targets) {
      for (const target of targets.keys()) this.edges.get(target)?.delete(key);
    }
    this.edges.delete(key);
  }

  /** Associations of one record to records of `toType`, in the order they were made. */
  list(fromType: HubSpotObjectType, fromId: string, toType: HubSpotObjectType): AssociationEdge[] {
    const targets = this.edges.get(recordKey(fromType, fromId));
    if (!targets) return [];
    const prefix = `${toType}:`;
    const result: AssociationEdge[] = [];
    for (const [target, typeIds] of targets) {
      if (!target.startsWith(prefix) || typeIds.size === 0) continue;
      result.push({ fromType, fromId, toType, toId: target.slice(prefix.length), typeIds: [...typeIds] });
    }
    return result;
  }

  clear(): void {
    this.edges.clear();
  }

  private link(
    fromType: HubSpotObjectType,
    fromId: string,
    toType: HubSpotObjectType,
    toId: string,
    typeId: number,
  ): void {
    const fromKey = recordKey(fromType, fromId);
    let targets = this.edges.get(fromKey);
    if (!targets) {
      targets = new Map();
      this.edges.set(fromKey, targets);
    }
    const toKey = recordKey(toType, toId);
    let typeIds = targets.get(toKey);
    if (!typeIds) {
      typeIds = new Set();
      targets.set(toKey, typeIds);
    }
    typeIds.add(typeId);
  }
}

/** The v4 label entry for a type id (`{category, typeId, label}`). */
export function associationTypeLabel(
  fromType: HubSpotObjectType,
  typeId: number,
): { category: AssociationCategory; typeId: number; label: string | null } {
  return { category: 'HUBSPOT_DEFINED', typeId, label: associationType(fromType, typeId)?.label ?? null };
}

/** The v3 `type` name of an association (`contact_to_company_unlabeled`). */
export function v3AssociationName(fromType: HubSpotObjectType, typeId: number): string {
  return (
    associationType(fromType, typeId)?.v3Name ?? `${OBJECT_TYPE_INFO[fromType].singular}_to_${String(typeId)}`
  );
}
