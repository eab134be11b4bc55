import { CrmError, CrmErrorCode, type CrmSession, type DeleteResult } from '@pm/integration-port';
import type { PipedriveHttpClient } from './client';
import { isAccountLevelError, toRecordError } from './errors';
import { PIPEDRIVE_ID } from './get-records';
import { requirePipedriveObject } from './objects';

/**
 * Deletes records of `object` by id; one result per id, in order. Deleting has no batch endpoint in Pipedrive: each
 * id is its own `DELETE /api/v2/{object}/{id}`, sent one after another. Pipedrive answers 404 for an id it does not
 * hold (already deleted, or never there), which counts as deleted: deleting is idempotent. A deletion Pipedrive
 * refuses for that record (400, 404 on a linked entity, 5xx, a lost answer) fails alone with Pipedrive's message; the
 * engine may retry it, which is safe because a repeated DELETE is a no-op. Account-level failures (401, 403, 429,
 * abort) stop the call and are thrown, as in upsertBatch. Pipedrive keeps deleted persons, organizations and
 * activities recoverable for 30 days, like a recycle bin.
 */
export async function deletePipedriveRecords(
  http: PipedriveHttpClient,
  session: CrmSession,
  request: { object: string; ids: readonly string[] },
): Promise<DeleteResult[]> {
  const object = requirePipedriveObject(request.object);
  const results: DeleteResult[] = [];
  for (const id of request.ids) results.push(await deleteOne(http, session, object, id));
  return results;
}

async function deleteOne(
  http: PipedriveHttpClient,
  session: CrmSession,
  object: string,
  id: string,
): Promise<DeleteResult> {
  // Not an id Pipedrive could have issued: no such record exists, so it is as deleted as it can be.
  if (!PIPEDRIVE_ID.test(id.trim())) return { id, ok: true };
  try {
    await http.api<{ id: number }>(session, {
      method: 'DELETE',
      path: `/api/v2/${object}/${encodeURIComponent(id.trim())}`,
    });
    return { id, ok: true };
  } catch (error) {
    if (isAccountLevelError(error) || !(error instanceof CrmError)) throw error;
    if (error.code === CrmErrorCode.NOT_FOUND) return { id, ok: true };
    return { id, ok: false, error: toRecordError(error) };
  }
}
