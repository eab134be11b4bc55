import { CrmError, type CrmErrorCode } from '../../errors';
import type { IntegrationPort } from '../../integration-port';
import type { ChangePage, CrmRecord, CrmSession, ReadChangesRequest, SyncCursor } from '../../types';

export const ISO_UTC_OR_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

/*
 * The contract's own reading of the cursor rules and its own page loop. They restate what @pm/connector-kit
 * implements (compareIds, cursorAfter, dropSeen, readAllChanges) instead of importing it: the port library may import
 * nothing of the product (layer rules), and an independent oracle catches a bug in the shared helpers rather than
 * repeating it. The rules are the port's: instants compared in UTC, ids numerically when both are integers, else by
 * UTF-16 code unit.
 */
const UNSIGNED_INTEGER = /^\d+$/;

export function compareIds(a: string, b: string): number {
  if (UNSIGNED_INTEGER.test(a) && UNSIGNED_INTEGER.test(b)) {
    const left = BigInt(a);
    const right = BigInt(b);
    return left < right ? -1 : left > right ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareInstants(a: string, b: string): number {
  const left = Date.parse(a);
  const right = Date.parse(b);
  if (Number.isNaN(left) || Number.isNaN(right)) {
    throw new Error(`Not comparable as instants: "${a}", "${b}"`);
  }
  return left - right;
}

export function compareByCursorPosition(a: CrmRecord, b: CrmRecord): number {
  return compareInstants(a.modifiedAt, b.modifiedAt) || compareIds(a.id, b.id);
}

function isAfterCursor(record: CrmRecord, cursor: SyncCursor | null): boolean {
  if (cursor === null) return true;
  const byTime = compareInstants(record.modifiedAt, cursor.modifiedAt);
  if (byTime !== 0) return byTime > 0;
  return cursor.lastId === undefined || compareIds(record.id, cursor.lastId) > 0;
}

export function dropSeen(records: CrmRecord[], cursor: SyncCursor | null): CrmRecord[] {
  return records.filter((record) => isAfterCursor(record, cursor));
}

/** The engine's cursor after processing `records` on top of `previous`: the greatest (modifiedAt, id). */
export function cursorAfter(records: CrmRecord[], previous: SyncCursor | null): SyncCursor | null {
  const greatest = [...records].sort(compareByCursorPosition).at(-1);
  if (greatest === undefined || !isAfterCursor(greatest, previous)) return previous;
  return { modifiedAt: greatest.modifiedAt, lastId: greatest.id };
}

/** Reads page after page as the engine's paginator does, and fails where it would: on a page token seen before. */
export async function readAllPages(
  port: IntegrationPort,
  session: CrmSession,
  request: Omit<ReadChangesRequest, 'pageToken'>,
): Promise<ChangePage[]> {
  const pages: ChangePage[] = [];
  const followed = new Set<string>();
  let pageToken: string | undefined;
  for (;;) {
    const page = await port.readChanges(
      session,
      pageToken === undefined ? request : { ...request, pageToken },
    );
    pages.push(page);
    const next = page.nextPageToken;
    if (next === undefined || next === '') return pages;
    if (followed.has(next)) {
      throw new Error(
        `readChanges returned the page token "${next}" a second time (page ${pages.length}): the shared paginator ` +
          'stops such a read with an error, so every read of this connector would fail',
      );
    }
    followed.add(next);
    pageToken = next;
  }
}

/** The code of the CrmError `call` throws; fails the test when it returns or throws something else. */
export function crmErrorCodeOf(call: () => unknown): CrmErrorCode {
  try {
    call();
  } catch (error) {
    if (error instanceof CrmError) return error.code;
    throw new Error(`Expected a CrmError, got ${String(error)}`, { cause: error });
  }
  throw new Error('Expected a CrmError, but the call returned normally');
}
