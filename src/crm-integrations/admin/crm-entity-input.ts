import type { EntityProperty } from '@mikro-orm/core';
import type { BaseProperty, Filter } from 'adminjs';
import { escapeLike, isJsonProperty, isUuidColumn, isWellFormedKey, UUID } from './crm-resource-policy';

// AdminJS's forms and filters, turned into entity data and MikroORM queries (pure: the resource class uses them).

type PropertyErrors = Record<string, { message: string; type: string }>;

/** Form values (all strings) to entity data, for editable properties only: nothing else can be set. */
export function parseAdminInput(
  params: Record<string, unknown>,
  entityProps: ReadonlyMap<string, EntityProperty>,
  props: ReadonlyMap<string, BaseProperty>,
  options: { isNew: boolean },
): { data: Record<string, unknown>; errors: PropertyErrors } {
  const data: Record<string, unknown> = {};
  const errors: PropertyErrors = {};
  for (const [name, prop] of entityProps) {
    const adminProperty = props.get(name);
    if (!adminProperty?.isEditable() || !(name in params)) continue;
    if (prop.primary && !options.isNew) continue;
    const raw = params[name];
    const text = raw === null || raw === undefined ? '' : String(raw);
    if (isJsonProperty(prop)) {
      if (text.trim() === '') {
        if (prop.nullable) data[name] = null;
        continue;
      }
      try {
        data[name] = JSON.parse(text);
      } catch {
        errors[name] = { message: 'must be valid JSON', type: 'json' };
      }
      continue;
    }
    if (text === '') {
      data[name] = null;
      continue;
    }
    switch (adminProperty.type()) {
      case 'boolean':
        data[name] = text === 'true';
        break;
      case 'number': {
        const number = Number(text);
        if (Number.isFinite(number)) data[name] = prop.columnTypes?.[0] === 'bigint' ? text : number;
        else errors[name] = { message: 'must be a number', type: 'number' };
        break;
      }
      case 'datetime':
      case 'date': {
        const date = new Date(text);
        if (Number.isNaN(date.getTime())) errors[name] = { message: 'must be a date', type: 'date' };
        else data[name] = date;
        break;
      }
      case 'reference': {
        const target = prop.targetMeta?.properties[prop.targetMeta.primaryKeys[0]];
        if (isUuidColumn(target) && !UUID.test(text))
          errors[name] = { message: 'is not a valid id', type: 'id' };
        else data[name] = text;
        break;
      }
      default:
        data[name] = text;
    }
  }
  return { data, errors };
}

/** AdminJS list filters to a MikroORM query; exact matches for ids, references and fixed value lists. */
export function adminFilterToWhere(
  filter: Filter | undefined,
  entityProps: ReadonlyMap<string, EntityProperty>,
  props: ReadonlyMap<string, BaseProperty>,
  hasFixedValuesFor: (path: string) => boolean,
): Record<string, unknown> {
  const where: Record<string, unknown> = {};
  for (const element of Object.values(filter?.filters ?? {})) {
    const prop = entityProps.get(element.path);
    const adminProperty = props.get(element.path);
    if (!prop || !adminProperty || isJsonProperty(prop)) continue;
    const value = element.value;
    if (typeof value !== 'string') {
      const range: Record<string, Date> = {};
      if (value?.from) range.$gte = new Date(value.from);
      if (value?.to) range.$lte = new Date(value.to);
      if (Object.keys(range).length > 0) where[element.path] = range;
      continue;
    }
    const hasFixedValues = hasFixedValuesFor(element.path);
    const type = adminProperty.type();
    if (type === 'boolean') where[element.path] = value === 'true';
    else if (type === 'number') where[element.path] = Number.isFinite(Number(value)) ? value : null;
    else if (type === 'reference' || prop.primary) {
      const target =
        type === 'reference' ? prop.targetMeta?.properties[prop.targetMeta.primaryKeys[0]] : prop;
      // A malformed id matches nothing (instead of a database error about the uuid or integer syntax).
      where[element.path] = isWellFormedKey(target, value) ? value : null;
    } else if (hasFixedValues) where[element.path] = value;
    else where[element.path] = { $ilike: `%${escapeLike(value)}%` };
  }
  return where;
}
