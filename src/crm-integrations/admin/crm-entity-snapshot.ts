import { wrap, type EntityProperty } from '@mikro-orm/core';
import { isJsonProperty, isReference } from './crm-resource-policy';

/**
 * The shown properties of a row: references as ids, JSON structured (for the audit trail) or as indented text (for
 * AdminJS params). Properties not shown (hidden ones: credentials, hashes) are never read.
 */
export function rowSnapshot(
  row: object,
  shown: ReadonlyMap<string, EntityProperty>,
  jsonAsText = false,
): Record<string, unknown> {
  const values = row as Record<string, unknown>;
  const params: Record<string, unknown> = {};
  for (const [name, prop] of shown) {
    const value = values[name];
    if (isReference(prop)) {
      params[name] = value && typeof value === 'object' ? String(wrap(value, true).getPrimaryKey()) : null;
    } else if (isJsonProperty(prop)) {
      params[name] =
        value === null || value === undefined ? null : jsonAsText ? JSON.stringify(value, null, 2) : value;
    } else {
      params[name] = value ?? null;
    }
  }
  return params;
}
