import { compareByCursorPosition, dropSeen, readWindowStart } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  type ChangePage,
  type CrmSession,
  type ReadChangesRequest,
} from '@pm/integration-port';
import type { PipedriveHttpClient } from './client';
import { PIPEDRIVE_PROVIDER } from './http-facts';
import { requirePipedriveObject, toCrmRecord, type PipedriveApiRecord } from './objects';

/**
 * One page of changes: `GET /api/v2/{object}?updated_since&sort_by=update_time&sort_direction=asc&limit&cursor`,
 * the cheapest correct read Pipedrive has (one call per page, keyset cursor, no search index lag). The read
 * restarts `readOverlapMs` before the cursor's instant (`updated_since` is inclusive and Pipedrive stamps whole
 * seconds) and `dropSeen` removes what the cursor already covers — records at its instant with an id ≤ lastId — so
 * thousands of records sharing one `update_time` are neither lost nor repeated, also when a run resumes inside the
 * group. Pipedrive's cursor is opaque and bound to the query, so the page token carries it with the read's `since`.
 */

interface PageToken {
  /** Object. */
  o: string;
  /** The read's since (modifiedAt, lastId), to refuse a token from another read. */
  s: string | null;
  l: string | null;
  /** Pipedrive's next_cursor. */
  c: string;
}

function encodePageToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodePageToken(request: ReadChangesRequest): string {
  let token: PageToken;
  try {
    token = JSON.parse(Buffer.from(request.pageToken as string, 'base64url').toString('utf8')) as PageToken;
  } catch {
    throw new CrmError(CrmErrorCode.VALIDATION_FAILED, 'Invalid page token', {
      provider: PIPEDRIVE_PROVIDER,
    });
  }
  if (
    typeof token?.c !== 'string' ||
    token.o !== request.object ||
    token.s !== (request.since?.modifiedAt ?? null) ||
    token.l !== (request.since?.lastId ?? null)
  ) {
    throw new CrmError(CrmErrorCode.VALIDATION_FAILED, 'The page token belongs to a different read', {
      provider: PIPEDRIVE_PROVIDER,
    });
  }
  return token.c;
}

/** RFC 3339 without fractions, as API v2 takes `updated_since` (Pipedrive stamps whole seconds). */
function rfc3339Seconds(iso: string): string {
  const ms = Date.parse(iso);
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export async function readPipedriveChanges(
  http: PipedriveHttpClient,
  session: CrmSession,
  request: ReadChangesRequest,
  options: { overlapMs: number; maxPageSize: number },
): Promise<ChangePage> {
  const object = requirePipedriveObject(request.object);
  const limit = Math.min(Math.max(1, Math.floor(request.pageSize ?? 100)), options.maxPageSize);
  const cursor = request.pageToken === undefined ? undefined : decodePageToken(request);
  const windowStart = readWindowStart(request.since, options.overlapMs);
  const page = await http.api<PipedriveApiRecord[] | null>(session, {
    method: 'GET',
    path: `/api/v2/${object}`,
    query: {
      updated_since: windowStart === null ? undefined : rfc3339Seconds(windowStart),
      sort_by: 'update_time',
      sort_direction: 'asc',
      limit,
      cursor,
    },
  });
  // Pipedrive orders by update_time and pages by keyset; the sort by (modifiedAt, id) makes the tie order explicit.
  const records = dropSeen(
    (page.data ?? []).map((api) => toCrmRecord(object, api, request.fields)),
    request.since,
  ).sort(compareByCursorPosition);
  const next = page.additional_data?.next_cursor;
  return {
    records,
    // API v2 lists never include deleted records; deletions reach the product through webhooks.
    deleted: [],
    ...(next
      ? {
          nextPageToken: encodePageToken({
            o: object,
            s: request.since?.modifiedAt ?? null,
            l: request.since?.lastId ?? null,
            c: next,
          }),
        }
      : {}),
  };
}
