import type { CrmRecord } from '@pm/integration-port';
import type { HubSpotCall } from './client';
import type { HubSpotObjectInfo } from './config';

/**
 * Fills `associations` (contact → companies, email → contacts) with one v4 batch read per associated type, so a
 * record from readChanges and one from getRecords look the same. Callers pass at most one page or batch of records.
 */
export async function addHubSpotAssociations(
  call: HubSpotCall,
  info: HubSpotObjectInfo,
  records: CrmRecord[],
): Promise<void> {
  if (records.length === 0) return;
  for (const toObject of info.associatedObjects) {
    const response = await call.run(() =>
      call.associations.getPage(
        info.capability.name,
        toObject,
        {
          inputs: records.map((record) => ({ id: record.id })),
        },
        call.options,
      ),
    );
    const byId = new Map(
      response.results.map((result) => [
        result._from.id,
        result.to.map((target) => String(target.toObjectId)),
      ]),
    );
    for (const record of records) {
      record.associations = { ...record.associations, [toObject]: byId.get(record.id) ?? [] };
    }
  }
}
