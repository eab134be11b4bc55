import { inBatches } from '@pm/connector-kit';
import { CrmError, type CrmRecord, type GetRecordsRequest } from '@pm/integration-port';
import { addHubSpotAssociations } from './associations';
import type { HubSpotCall } from './client';
import { HUBSPOT_MAX_BATCH, HUBSPOT_PROVIDER } from './config';
import { recordErrorFromBatchError, type HubSpotErrorBody } from './errors';
import { propertiesToRead, requireObject, toCrmRecord } from './records';

/** The category of a batch/read error entry for ids that are archived or never existed. */
const NOT_FOUND_CATEGORY = 'OBJECT_NOT_FOUND';

/**
 * getRecords: `POST /crm/v3/objects/{type}/batch/read`, 100 ids a call, with the same properties and associations
 * as readChanges. HubSpot answers ids it does not hold (archived ones included: `archived=false`) with a 207 and an
 * OBJECT_NOT_FOUND entry naming them; those ids are simply absent from the result. Ids are de-duplicated first
 * because HubSpot refuses a batch that names one id twice. Results come back in the order the ids were asked.
 */
export async function getHubSpotRecords(call: HubSpotCall, request: GetRecordsRequest): Promise<CrmRecord[]> {
  const info = requireObject(request.object);
  const ids = [...new Set(request.ids.map((id) => id.trim()).filter((id) => id !== ''))];
  const properties = propertiesToRead(info, request.fields);
  const records: CrmRecord[] = [];
  for (const chunk of inBatches(ids, HUBSPOT_MAX_BATCH)) {
    const response = await call.run(() =>
      call.objects.batchApi.read(
        info.capability.name,
        { inputs: chunk.map((id) => ({ id })), properties, propertiesWithHistory: [] },
        false,
        call.options,
      ),
    );
    const errors = 'errors' in response ? (response.errors ?? []) : [];
    const refusal = errors.find((error) => error.category !== NOT_FOUND_CATEGORY);
    if (refusal !== undefined) {
      // Anything but "not found" (a malformed id, a missing scope) is HubSpot refusing the read: fail the call.
      const detail = recordErrorFromBatchError(refusal as HubSpotErrorBody);
      throw new CrmError(detail.code, detail.message, {
        provider: HUBSPOT_PROVIDER,
        crmCode: detail.crmCode,
        field: detail.field,
      });
    }
    const byId = new Map(response.results.map((result) => [result.id, toCrmRecord(info, result)]));
    const found = chunk.flatMap((id) => byId.get(id) ?? []);
    await addHubSpotAssociations(call, info, found, request.associations);
    records.push(...found);
  }
  return records;
}
