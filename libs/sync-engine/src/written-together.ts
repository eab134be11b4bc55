import { mappingKey, type ObjectCapability, type ObjectMapping } from '@pm/integration-port';
import { encodeLocalValue } from './field-mapping';
import type { SyncedValues } from './record-planner';

/** What the engine knows of a CRM record's current values when it updates it. */
export interface KnownCrmValues {
  /** The record's own fields, where the caller has just read it (an inbound page). */
  crmFields?: Readonly<Record<string, unknown>>;
  /** The link's snapshot: what the CRM held at the last sync, which an outbound plan takes it to still hold. */
  base?: SyncedValues;
}

/**
 * An update's payload completed with the fields the CRM writes only together (`ObjectCapability.writtenTogether`):
 * where the payload sets one field of a group, each other field of the group is added with its known value, so
 * the connector need not read the record first to keep it. The record's own value is used where the caller holds
 * it, else the snapshot's; a field with neither (not mapped, or never synced), or whose value does not cross as
 * plain text (a value map or formula), is left out, and the connector reads it as before.
 */
export function withFieldsWrittenTogether(
  object: Pick<ObjectCapability, 'writtenTogether'> | undefined,
  mapping: ObjectMapping,
  payload: Record<string, unknown>,
  known: KnownCrmValues,
): Record<string, unknown> {
  const groups = object?.writtenTogether ?? [];
  if (groups.length === 0) return payload;
  const completed = { ...payload };
  for (const group of groups) {
    if (!group.some((field) => field in payload)) continue;
    for (const field of group) {
      if (field in completed) continue;
      if (known.crmFields && field in known.crmFields) {
        completed[field] = known.crmFields[field];
        continue;
      }
      const entry = mapping.fields.find(
        (candidate) => candidate.crm === field && !candidate.valueMap && !candidate.formula,
      );
      const last = entry && known.base?.[mappingKey(entry)];
      if (entry && last) completed[field] = encodeLocalValue(entry, (last.value ?? null) as string | null);
    }
  }
  return completed;
}
