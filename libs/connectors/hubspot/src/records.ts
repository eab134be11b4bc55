import { toUtcIso } from '@pm/connector-kit';
import { CrmError, CrmErrorCode, type CrmRecord } from '@pm/integration-port';
import { HUBSPOT_PROVIDER, objectInfo, type HubSpotObjectInfo } from './config';

/** A record as the SDK hands it back (SimplePublicObject and its relatives). */
export interface SdkObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt?: Date;
  updatedAt?: Date;
  archivedAt?: Date;
}

/** The object's info, or VALIDATION_FAILED for an object this connector does not handle. */
export function requireObject(object: string): HubSpotObjectInfo {
  const info = objectInfo(object);
  if (!info) {
    throw new CrmError(
      CrmErrorCode.VALIDATION_FAILED,
      `The HubSpot connector handles contacts, companies and emails, not "${object}"`,
      { provider: HUBSPOT_PROVIDER },
    );
  }
  return info;
}

/** The properties to ask for: the requested (or default) ones plus what the cursor and the record need. */
export function propertiesToRead(info: HubSpotObjectInfo, fields: string[] | undefined): string[] {
  return [
    ...new Set([
      ...(fields ?? info.defaultProperties),
      info.modifiedProperty,
      info.createdProperty,
      'hs_object_id',
    ]),
  ];
}

/** HubSpot property values are strings; the port's records carry them as HubSpot sent them. */
export function toCrmRecord(info: HubSpotObjectInfo, object: SdkObject): CrmRecord {
  const modified = object.properties[info.modifiedProperty] ?? object.updatedAt?.toISOString();
  if (!modified) {
    throw new CrmError(
      CrmErrorCode.UNKNOWN,
      `HubSpot returned ${info.capability.name} ${object.id} without ${info.modifiedProperty}`,
      { provider: HUBSPOT_PROVIDER },
    );
  }
  const created = object.properties[info.createdProperty] ?? object.createdAt?.toISOString();
  const record: CrmRecord = {
    id: object.id,
    object: info.capability.name,
    modifiedAt: toUtcIso(modified),
    fields: { ...object.properties },
  };
  if (created) record.createdAt = toUtcIso(created);
  return record;
}

/**
 * A value as HubSpot accepts it in `properties`: strings; '' clears a value; multi-select options joined by ';'
 * (HubSpot's enumeration syntax); dates as ISO 8601.
 */
export function toPropertyValue(name: string, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value) && value.every((item) => typeof item === 'string' || typeof item === 'number')) {
    return value.join(';');
  }
  throw new CrmError(CrmErrorCode.VALIDATION_FAILED, `Property ${name} cannot hold a ${typeof value} value`, {
    provider: HUBSPOT_PROVIDER,
    field: name,
  });
}

export function toProperties(fields: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fields).map(([name, value]) => [name, toPropertyValue(name, value)]),
  );
}
