import type { IdPage, ListIdsRequest } from '../../types';
import type { InMemoryCrm } from './in-memory-crm';
import { instantMs } from './stream-position';

/** One page of the object's live record ids, in id order. */
export function listIds(crm: InMemoryCrm, request: ListIdsRequest, maxReadPage: number): IdPage {
  const pageSize = Math.min(Math.max(1, request.pageSize ?? 100), maxReadPage);
  const since =
    request.modifiedSince === undefined ? undefined : instantMs(request.modifiedSince, 'modifiedSince');
  const all = crm
    .listRecords(request.object)
    .filter((record) => since === undefined || Date.parse(record.modifiedAt) >= since)
    .sort((a, b) => Number(a.id) - Number(b.id));
  // Keyset by id, as real listings page: a record removed between pages moves no other record to another page.
  const after = request.pageToken === undefined ? 0 : Number(request.pageToken);
  const rest = all.filter((record) => Number(record.id) > after);
  const ids = rest.slice(0, pageSize).map((record) => ({ id: record.id, modifiedAt: record.modifiedAt }));
  const last = ids[ids.length - 1];
  return rest.length > pageSize && last ? { ids, nextPageToken: last.id } : { ids };
}
