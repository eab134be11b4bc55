import {
  CrmError,
  CrmErrorCode,
  type ChangePage,
  type DeletedRecord,
  type ReadChangesRequest,
  type SyncCursor,
} from '@pm/integration-port';
import { objectSpec, selectFields } from './objects';
import { toCrmRecord, type QueryAnswer } from './records';
import type { SessionConnection } from './session-connection';
import { soqlDateTime, soqlName, soqlString } from './soql';

/**
 * Reading changes with SOQL keyset paging:
 *
 *   SELECT … FROM T WHERE SystemModstamp > :t OR (SystemModstamp = :t AND Id > :lastId)
 *   ORDER BY SystemModstamp, Id LIMIT n
 *
 * through `queryAll`, so records deleted since the cursor (still in the recycle bin, `IsDeleted = true`) come back in
 * the same order as the live ones and are reported as deletions. Each page restarts from the last row it returned,
 * so thousands of records sharing one SystemModstamp are read page by page without loss or repeat and a read stopped
 * inside such a group resumes from (instant, id). Salesforce compares and sorts Ids by their case-sensitive
 * 15-character value, which is the code-unit order connector-kit's `compareIds` uses for 18-character ids.
 *
 * The page token is our own (the last row's position), not a query locator: locators expire after 15 minutes idle,
 * are limited per user, and a LIMIT query has none to give.
 */

export const DEFAULT_READ_PAGE = 500;
/** Salesforce's largest query batch; a LIMIT above it would page inside the query. */
export const MAX_READ_PAGE = 2000;

interface PagePosition {
  /** Object the token belongs to, so a token is never replayed against another object. */
  o: string;
  /** SystemModstamp of the last row returned (ISO UTC). */
  t: string;
  /** Id of that row. */
  i: string;
}

function encodeToken(position: PagePosition): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

function decodeToken(token: string, object: string): PagePosition {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<PagePosition>;
    if (
      typeof parsed.o === 'string' &&
      parsed.o.toLowerCase() === object.toLowerCase() &&
      typeof parsed.t === 'string' &&
      typeof parsed.i === 'string'
    ) {
      return { o: parsed.o, t: parsed.t, i: parsed.i };
    }
  } catch {
    // Fall through to the error below.
  }
  throw new CrmError(
    CrmErrorCode.VALIDATION_FAILED,
    `Not a Salesforce page token for ${object}: "${token}"`,
    {
      provider: 'salesforce',
    },
  );
}

/** The WHERE clause for "after this cursor", or undefined for a first sync. */
function afterCursor(cursor: SyncCursor | null): string | undefined {
  if (cursor === null) return undefined;
  const at = soqlDateTime(cursor.modifiedAt);
  if (cursor.lastId === undefined) return `SystemModstamp >= ${at}`;
  return `SystemModstamp > ${at} OR (SystemModstamp = ${at} AND Id > ${soqlString(cursor.lastId)})`;
}

export function buildChangesQuery(
  object: string,
  fields: string[],
  cursor: SyncCursor | null,
  limit: number,
): string {
  const where = afterCursor(cursor);
  return (
    `SELECT ${fields.map(soqlName).join(', ')} FROM ${soqlName(object)}` +
    (where !== undefined ? ` WHERE ${where}` : '') +
    ` ORDER BY SystemModstamp ASC, Id ASC LIMIT ${limit}`
  );
}

export async function readChanges(
  connection: SessionConnection,
  request: ReadChangesRequest,
): Promise<ChangePage> {
  const spec = objectSpec(request.object);
  const object = spec?.capability.name ?? request.object;
  const limit = Math.max(1, Math.min(request.pageSize ?? DEFAULT_READ_PAGE, MAX_READ_PAGE));
  const position = request.pageToken === undefined ? undefined : decodeToken(request.pageToken, object);
  const cursor: SyncCursor | null = position ? { modifiedAt: position.t, lastId: position.i } : request.since;
  const soql = buildChangesQuery(object, selectFields(spec, request.fields), cursor, limit);

  const answer = await connection.call((conn) =>
    conn.request<QueryAnswer>(`${connection.baseUrl}/queryAll?q=${encodeURIComponent(soql)}`),
  );
  const rows = answer.records ?? [];
  const page: ChangePage = { records: [], deleted: [] };
  for (const row of rows) {
    const record = toCrmRecord(object, row);
    if (row.IsDeleted === true) {
      const deleted: DeletedRecord = { id: record.id, object, deletedAt: record.modifiedAt };
      page.deleted.push(deleted);
    } else {
      page.records.push(record);
    }
  }
  // A full page (or a query Salesforce cut into batches) may have more behind it: continue after its last row.
  const last = rows.at(-1);
  if (last !== undefined && (rows.length >= limit || answer.done === false)) {
    const lastRecord = toCrmRecord(object, last);
    page.nextPageToken = encodeToken({ o: object, t: lastRecord.modifiedAt, i: lastRecord.id });
  }
  return page;
}
