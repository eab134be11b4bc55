import { inBatches } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  type DeleteRecordsRequest,
  type DeleteResult,
  type RecordError,
} from '@pm/integration-port';
import type { HubSpotCall } from './client';
import { HUBSPOT_MAX_BATCH } from './config';
import { recordErrorFromCrmError } from './errors';
import { requireObject } from './records';

/**
 * deleteRecords: `POST /crm/v3/objects/{type}/batch/archive`, 100 ids a call. Archiving moves records to HubSpot's
 * recycle bin (kept 90 days, where readChanges reports them as deleted). HubSpot answers 204 for the whole batch,
 * ids already archived or unknown included, so deleting is idempotent without a lookup.
 *
 * HubSpot has no per-record answer here: it refuses a batch whole (400) when it refuses one of its ids. Then the
 * batch is split in halves until the refused ids stand alone and fail with HubSpot's message, as upsertBatch does;
 * re-sending is safe because a refused batch archived nothing and archiving twice is a no-op. Any other failure
 * (429, 401, 5xx) fails the call: an earlier batch of it may be archived already, which a retry simply repeats.
 */
export async function deleteHubSpotRecords(
  call: HubSpotCall,
  request: DeleteRecordsRequest,
): Promise<DeleteResult[]> {
  const info = requireObject(request.object);
  // HubSpot refuses a batch naming one id twice; each input still gets its own result below.
  const ids = [...new Set(request.ids)];
  const refused = new Map<string, RecordError>();
  for (const batch of inBatches(ids, HUBSPOT_MAX_BATCH)) {
    await archiveIsolated(call, info.capability.name, batch, refused);
  }
  return request.ids.map((id): DeleteResult => {
    const error = refused.get(id);
    return error === undefined ? { id, ok: true } : { id, ok: false, error };
  });
}

async function archiveIsolated(
  call: HubSpotCall,
  object: string,
  ids: string[],
  refused: Map<string, RecordError>,
): Promise<void> {
  try {
    await call.run(() =>
      call.objects.batchApi.archive(object, { inputs: ids.map((id) => ({ id })) }, call.options),
    );
  } catch (error) {
    // A 404 for a lone id means it is gone already: that is what deleting wanted.
    if (ids.length === 1 && CrmError.is(error, CrmErrorCode.NOT_FOUND)) return;
    if (!(CrmError.is(error, CrmErrorCode.VALIDATION_FAILED) || CrmError.is(error, CrmErrorCode.NOT_FOUND))) {
      throw error;
    }
    if (ids.length === 1) {
      refused.set(ids[0], recordErrorFromCrmError(error));
      return;
    }
    const middle = Math.ceil(ids.length / 2);
    await archiveIsolated(call, object, ids.slice(0, middle), refused);
    await archiveIsolated(call, object, ids.slice(middle), refused);
  }
}
