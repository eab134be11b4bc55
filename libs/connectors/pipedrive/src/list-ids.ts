import { toUtcIso } from '@pm/connector-kit';
import type { CrmSession, IdPage, ListIdsRequest } from '@pm/integration-port';
import type { PipedriveHttpClient } from './client';
import { requirePipedriveObject, type PipedriveApiRecord } from './objects';

/** RFC 3339 without fractions, as API v2 takes `updated_since` (Pipedrive stamps whole seconds). */
function rfc3339Seconds(iso: string): string {
  const ms = Date.parse(iso);
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * listIds: `GET /api/v2/{object}?limit&cursor[&updated_since]`, the same keyset listing readChanges uses (API v2
 * lists only live records and has no field projection), at the largest page, keeping the id and `update_time` of
 * each row. Pipedrive's `next_cursor` is the page token.
 */
export async function listPipedriveIds(
  http: PipedriveHttpClient,
  session: CrmSession,
  request: ListIdsRequest,
  options: { maxPageSize: number },
): Promise<IdPage> {
  const object = requirePipedriveObject(request.object);
  const limit = Math.min(
    Math.max(1, Math.floor(request.pageSize ?? options.maxPageSize)),
    options.maxPageSize,
  );
  const page = await http.api<PipedriveApiRecord[] | null>(session, {
    method: 'GET',
    path: `/api/v2/${object}`,
    query: {
      updated_since: request.modifiedSince === undefined ? undefined : rfc3339Seconds(request.modifiedSince),
      limit,
      cursor: request.pageToken,
    },
  });
  const ids = (page.data ?? []).map((row) => ({ id: String(row.id), modifiedAt: toUtcIso(row.update_time) }));
  const next = page.additional_data?.next_cursor;
  return { ids, ...(next ? { nextPageToken: next } : {}) };
}
