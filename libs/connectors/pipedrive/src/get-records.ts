import {
  CrmError,
  CrmErrorCode,
  type CrmRecord,
  type CrmSession,
  type DeleteResult,
} from '@pm/integration-port';
import { mapWithConcurrency } from './concurrency';
import { isAccountLevelError, toRecordError } from './errors';
import type { PipedriveHttpClient } from './client';
import {
  requirePipedriveObject,
  toCrmRecord,
  type PipedriveApiRecord,
  type PipedriveObjectName,
} from './objects';

/**
 * Records by id and deletions by id. Reads use the API v2 list's `ids=` filter (persons, organizations and
 * activities all take up to 100 ids a call; the SDK's `getPersons(filter_id, ids, …)`), so 250 ids cost 3 calls,
 * not 250. Deleting has no batch endpoint in Pipedrive: each id is its own `DELETE /api/v2/{object}/{id}`, run with
 * at most `maxConcurrency` in flight inside the one call.
 */

/** The v2 list's documented maximum for `ids`. */
export const IDS_PER_LIST = 100;

/** Pipedrive ids are positive integers; anything else names no record (and Pipedrive would refuse the whole list). */
const PIPEDRIVE_ID = /^[1-9][0-9]{0,15}$/;

/** Full API v2 records of `object` for `ids` (unique, well-formed), 100 a call, `concurrency` calls at once. */
export async function listRecordsByIds(
  http: PipedriveHttpClient,
  session: CrmSession,
  object: PipedriveObjectName,
  ids: readonly string[],
  concurrency: number,
): Promise<PipedriveApiRecord[]> {
  const chunks: string[][] = [];
  for (let start = 0; start < ids.length; start += IDS_PER_LIST)
    chunks.push(ids.slice(start, start + IDS_PER_LIST));
  const pages = await mapWithConcurrency(chunks, concurrency, async (chunk) => {
    const page = await http.api<PipedriveApiRecord[] | null>(session, {
      method: 'GET',
      path: `/api/v2/${object}`,
      query: { ids: chunk.join(','), limit: IDS_PER_LIST },
    });
    return page.data ?? [];
  });
  return pages.flat();
}

/**
 * Records of `object` by id, in the order first asked for; ids Pipedrive does not hold (never existed, deleted,
 * malformed) are absent. API v2 lists leave deleted records out, so a deleted id is absent too.
 */
export async function getPipedriveRecords(
  http: PipedriveHttpClient,
  session: CrmSession,
  request: { object: string; ids: readonly string[]; fields?: readonly string[] },
  concurrency: number,
): Promise<CrmRecord[]> {
  const object = requirePipedriveObject(request.object);
  const wanted = [...new Set(request.ids.map((id) => id.trim()))].filter((id) => PIPEDRIVE_ID.test(id));
  const found = await listRecordsByIds(http, session, object, wanted, concurrency);
  const byId = new Map(found.map((api) => [String(api.id), api]));
  return wanted.flatMap((id) => {
    const api = byId.get(id);
    return api === undefined ? [] : [toCrmRecord(object, api, request.fields)];
  });
}

/**
 * Deletes records of `object` by id; one result per id, in order. Pipedrive answers 404 for an id it does not hold
 * (already deleted, or never there), which counts as deleted: deleting is idempotent. A deletion Pipedrive refuses
 * for that record (400, 404 on a linked entity, 5xx, a lost answer) fails alone with Pipedrive's message; the engine
 * may retry it, which is safe because a repeated DELETE is a no-op. Account-level failures (401, 403, 429, abort)
 * stop new requests and throw once the ones in flight have finished, as in upsertBatch. Pipedrive keeps deleted
 * persons, organizations and activities recoverable for 30 days, like a recycle bin.
 */
export async function deletePipedriveRecords(
  http: PipedriveHttpClient,
  session: CrmSession,
  request: { object: string; ids: readonly string[] },
  concurrency: number,
): Promise<DeleteResult[]> {
  const object = requirePipedriveObject(request.object);
  return mapWithConcurrency(
    request.ids,
    concurrency,
    async (id): Promise<DeleteResult> => {
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
    },
    isAccountLevelError,
  );
}
