import { CrmError, CrmErrorCode, type IdPage, type ListIdsRequest } from '@pm/integration-port';
import { objectSpec } from './objects';
import { toCrmRecord, type QueryAnswer } from './records';
import type { SessionConnection } from './session-connection';
import { soqlDateTime, soqlName, soqlString } from './soql';
import { MAX_READ_PAGE } from './read-changes';

/**
 * listIds: `SELECT Id, SystemModstamp FROM T [WHERE SystemModstamp >= :since AND] Id > :lastId ORDER BY Id LIMIT n`
 * through `query` (live records only, unlike readChanges' `queryAll`), keyset-paged by Id so no query locator is
 * held between pages. Two fields a row: the cheapest complete listing SOQL gives.
 */

interface IdPosition {
  o: string;
  i: string;
}

function decodeToken(token: string, object: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<IdPosition>;
    if (parsed.o?.toLowerCase() === object.toLowerCase() && typeof parsed.i === 'string') return parsed.i;
  } catch {
    // Reported below.
  }
  throw new CrmError(CrmErrorCode.VALIDATION_FAILED, `Not a Salesforce id listing token for ${object}`, {
    provider: 'salesforce',
  });
}

export function buildIdsQuery(
  object: string,
  since: string | undefined,
  afterId: string | undefined,
  limit: number,
) {
  const where = [
    ...(since === undefined ? [] : [`SystemModstamp >= ${soqlDateTime(since)}`]),
    ...(afterId === undefined ? [] : [`Id > ${soqlString(afterId)}`]),
  ];
  return (
    `SELECT Id, SystemModstamp FROM ${soqlName(object)}` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY Id ASC LIMIT ${limit}`
  );
}

export async function listIds(connection: SessionConnection, request: ListIdsRequest): Promise<IdPage> {
  const object = objectSpec(request.object)?.capability.name ?? request.object;
  const limit = Math.max(1, Math.min(request.pageSize ?? MAX_READ_PAGE, MAX_READ_PAGE));
  const afterId = request.pageToken === undefined ? undefined : decodeToken(request.pageToken, object);
  const soql = buildIdsQuery(object, request.modifiedSince, afterId, limit);
  const answer = await connection.call((conn) =>
    conn.request<QueryAnswer>(`${connection.baseUrl}/query?q=${encodeURIComponent(soql)}`),
  );
  const rows = answer.records ?? [];
  const ids = rows.map((row) => {
    const record = toCrmRecord(object, row);
    return { id: record.id, modifiedAt: record.modifiedAt };
  });
  const last = ids.at(-1);
  if (last === undefined || (rows.length < limit && answer.done !== false)) return { ids };
  const token: IdPosition = { o: object, i: last.id };
  return { ids, nextPageToken: Buffer.from(JSON.stringify(token), 'utf8').toString('base64url') };
}
