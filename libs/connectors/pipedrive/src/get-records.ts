import { inBatches } from '@pm/connector-kit';
import type { CrmRecord, CrmSession } from '@pm/integration-port';
import type { PipedriveHttpClient } from './client';
import {
  requirePipedriveObject,
  toCrmRecord,
  type PipedriveApiRecord,
  type PipedriveObjectName,
} from './objects';

/**
 * Records by id through the API v2 list's `ids=` filter (persons, organizations and activities all take up to 100
 * ids a call; the SDK's `getPersons(filter_id, ids, …)`), so 250 ids cost 3 calls, not 250, made one after another.
 */

/** The v2 list's documented maximum for `ids`. */
export const IDS_PER_LIST = 100;

/** Pipedrive ids are positive integers; anything else names no record (and Pipedrive would refuse the whole list). */
export const PIPEDRIVE_ID = /^[1-9][0-9]{0,15}$/;

/** Full API v2 records of `object` for `ids` (unique, well-formed), 100 a call. */
export async function listRecordsByIds(
  http: PipedriveHttpClient,
  session: CrmSession,
  object: PipedriveObjectName,
  ids: readonly string[],
): Promise<PipedriveApiRecord[]> {
  const records: PipedriveApiRecord[] = [];
  for (const batch of inBatches(ids, IDS_PER_LIST)) {
    const page = await http.api<PipedriveApiRecord[] | null>(session, {
      method: 'GET',
      path: `/api/v2/${object}`,
      query: { ids: batch.join(','), limit: IDS_PER_LIST },
    });
    records.push(...(page.data ?? []));
  }
  return records;
}

/**
 * Records of `object` by id, in the order first asked for; ids Pipedrive does not hold (never existed, deleted,
 * malformed) are absent. API v2 lists leave deleted records out, so a deleted id is absent too.
 */
export async function getPipedriveRecords(
  http: PipedriveHttpClient,
  session: CrmSession,
  request: { object: string; ids: readonly string[]; fields?: readonly string[] },
): Promise<CrmRecord[]> {
  const object = requirePipedriveObject(request.object);
  const wanted = [...new Set(request.ids.map((id) => id.trim()))].filter((id) => PIPEDRIVE_ID.test(id));
  const found = await listRecordsByIds(http, session, object, wanted);
  const byId = new Map(found.map((api) => [String(api.id), api]));
  return wanted.flatMap((id) => {
    const api = byId.get(id);
    return api === undefined ? [] : [toCrmRecord(object, api, request.fields)];
  });
}
