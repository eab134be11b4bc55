import { CrmError, CrmErrorCode } from '../../errors';
import type { ChangePage, CrmRecord, DeletedRecord, ReadChangesRequest, SyncCursor } from '../../types';
import type { InMemoryCrm } from './in-memory-crm';
import { IN_MEMORY_PROVIDER } from './provider';
import { comparePositions, instantMs, type StreamPosition } from './stream-position';

interface PageToken {
  object: string;
  since: SyncCursor | null;
  after: StreamPosition;
}

/** One page of the object's change stream from the cursor on: live records and tombstones in stream order. */
export function readChanges(crm: InMemoryCrm, request: ReadChangesRequest, maxReadPage: number): ChangePage {
  const pageSize = Math.min(Math.max(1, request.pageSize ?? 100), maxReadPage);
  const after = request.pageToken === undefined ? undefined : decodePageToken(request);
  const sinceMs =
    request.since === null ? undefined : instantMs(request.since.modifiedAt, 'since.modifiedAt');
  // Inclusive of the cursor's instant: records sharing it with ids above lastId are still to be read.
  const entries = crm.changeStream(request.object).filter((entry) => {
    const position =
      entry.kind === 'record'
        ? crm.position(entry.record.modifiedAt, entry.record.id)
        : crm.position(entry.entry.deletedAt, entry.entry.id);
    return (
      (sinceMs === undefined || position.at >= sinceMs) &&
      (after === undefined || comparePositions(position, after) > 0)
    );
  });
  const page = entries.slice(0, pageSize);
  const records: CrmRecord[] = [];
  const deleted: DeletedRecord[] = [];
  for (const entry of page) {
    if (entry.kind === 'record') records.push(crm.toCrmRecord(entry.record, request.fields));
    else deleted.push({ ...entry.entry });
  }
  const last = page[page.length - 1];
  if (entries.length <= page.length || last === undefined) {
    return { records, deleted };
  }
  const lastPosition =
    last.kind === 'record'
      ? crm.position(last.record.modifiedAt, last.record.id)
      : crm.position(last.entry.deletedAt, last.entry.id);
  const token: PageToken = { object: request.object, since: request.since, after: lastPosition };
  return { records, deleted, nextPageToken: Buffer.from(JSON.stringify(token)).toString('base64url') };
}

function decodePageToken(request: ReadChangesRequest): StreamPosition {
  let token: PageToken;
  try {
    token = JSON.parse(Buffer.from(request.pageToken as string, 'base64url').toString('utf8')) as PageToken;
  } catch {
    throw new CrmError(CrmErrorCode.VALIDATION_FAILED, 'Invalid page token', {
      status: 400,
      provider: IN_MEMORY_PROVIDER,
    });
  }
  if (
    token.object !== request.object ||
    token.since?.modifiedAt !== request.since?.modifiedAt ||
    token.since?.lastId !== request.since?.lastId
  ) {
    throw new CrmError(CrmErrorCode.VALIDATION_FAILED, 'The page token belongs to a different read', {
      status: 400,
      provider: IN_MEMORY_PROVIDER,
    });
  }
  return token.after;
}
