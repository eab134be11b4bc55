import { inBatches } from '@pm/connector-kit';
import type { CrmRecord } from '@pm/integration-port';
import type { HubSpotCall } from './client';
import { HUBSPOT_MAX_ASSOCIATION_READ, type HubSpotObjectInfo } from './config';

/**
 * The ids of the `toObject` records each of `ids` is associated with: one v4 batch read per 1,000 ids. Ids without
 * any association are absent.
 */
export async function readHubSpotAssociationIds(
  call: HubSpotCall,
  fromObject: string,
  toObject: string,
  ids: readonly string[],
): Promise<Record<string, string[]>> {
  const byId: Record<string, string[]> = {};
  for (const chunk of inBatches([...new Set(ids)], HUBSPOT_MAX_ASSOCIATION_READ)) {
    const response = await call.run(() =>
      call.associations.getPage(fromObject, toObject, { inputs: chunk.map((id) => ({ id })) }, call.options),
    );
    for (const result of response.results) {
      byId[result._from.id] = result.to.map((target) => String(target.toObjectId));
    }
  }
  return byId;
}

/**
 * Fills `associations` (contact → companies, email → contacts) with one v4 batch read per associated type, so a
 * record from readChanges and one from getRecords look the same. `only` narrows the types to those the caller asked
 * for (an empty list reads none: the caller reads them itself, for several pages at once).
 */
export async function addHubSpotAssociations(
  call: HubSpotCall,
  info: HubSpotObjectInfo,
  records: CrmRecord[],
  only?: readonly string[],
): Promise<void> {
  if (records.length === 0) return;
  const toObjects = only ? info.associatedObjects.filter((o) => only.includes(o)) : info.associatedObjects;
  for (const toObject of toObjects) {
    const byId = await readHubSpotAssociationIds(
      call,
      info.capability.name,
      toObject,
      records.map((record) => record.id),
    );
    for (const record of records) {
      record.associations = { ...record.associations, [toObject]: byId[record.id] ?? [] };
    }
  }
}
