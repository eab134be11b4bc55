import type { CrmRecord, SyncCursor } from '@pm/integration-port';

/**
 * The incremental cursor is (modification time, record id). CRMs stamp many records with the same instant (a bulk
 * import, a workflow), so the time alone cannot say where a read stopped; the id breaks the tie. Reading restarts at
 * the cursor's instant (minus an overlap) and `dropSeen` removes what was already processed.
 */

/** An instant split into whole milliseconds and the sub-millisecond rest, so microsecond stamps still compare. */
interface ParsedInstant {
  /** Epoch milliseconds of the whole second. */
  secondMs: number;
  /** The fraction of the second in nanoseconds (up to 9 digits kept). */
  fractionNs: number;
  /** The fraction digits as written, to format the instant back without losing precision. */
  fractionDigits: string;
}

const ISO_INSTANT = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Parses an ISO-8601 timestamp as an instant. A timestamp without a zone is read as UTC (Pipedrive's
 * `2024-01-01 10:00:00`): reading it in the server's local zone would move records by hours.
 */
function parseInstant(value: string): ParsedInstant {
  const match = ISO_INSTANT.exec(value.trim());
  if (!match) {
    throw new RangeError(`Not an ISO-8601 timestamp: "${value}"`);
  }
  const [, date, time, fraction = '', zone = 'Z'] = match;
  const normalizedZone = zone.toUpperCase() === 'Z' ? 'Z' : zone.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const secondMs = Date.parse(`${date}T${time.length === 5 ? `${time}:00` : time}${normalizedZone}`);
  if (Number.isNaN(secondMs)) {
    throw new RangeError(`Not an ISO-8601 timestamp: "${value}"`);
  }
  const fractionDigits = fraction.slice(0, 9);
  return { secondMs, fractionNs: Number(fractionDigits.padEnd(9, '0')), fractionDigits };
}

/** Compares two ISO timestamps as instants in UTC: negative when `a` is earlier, 0 when the same instant. */
export function compareInstants(a: string, b: string): number {
  const left = parseInstant(a);
  const right = parseInstant(b);
  return left.secondMs - right.secondMs || left.fractionNs - right.fractionNs;
}

/** The same instant written as ISO-8601 UTC (`…Z`), keeping sub-millisecond digits the CRM sent. */
export function toUtcIso(value: string): string {
  const instant = parseInstant(value);
  const digits = instant.fractionDigits.padEnd(3, '0');
  return new Date(instant.secondMs).toISOString().replace(/\.\d{3}Z$/, `.${digits}Z`);
}

const UNSIGNED_INTEGER = /^\d+$/;

/**
 * A stable total order on CRM ids: numerically when both are integers (Pipedrive and HubSpot ids, where "10" must
 * come after "9"), otherwise by UTF-16 code units (Salesforce ids; never locale-dependent).
 */
export function compareIds(a: string, b: string): number {
  if (UNSIGNED_INTEGER.test(a) && UNSIGNED_INTEGER.test(b)) {
    // Compare without Number() so ids beyond 2^53 keep their order.
    const left = a.replace(/^0+(?=\d)/, '');
    const right = b.replace(/^0+(?=\d)/, '');
    if (left.length !== right.length) {
      return left.length - right.length;
    }
    return left < right ? -1 : left > right ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders records as a change read returns them: oldest first, ties by id. */
export function compareByCursorPosition(
  a: Pick<CrmRecord, 'modifiedAt' | 'id'>,
  b: Pick<CrmRecord, 'modifiedAt' | 'id'>,
): number {
  return compareInstants(a.modifiedAt, b.modifiedAt) || compareIds(a.id, b.id);
}

/** Whether a record comes after the cursor, i.e. has not been processed by the read the cursor summarises. */
export function isAfterCursor(
  record: Pick<CrmRecord, 'modifiedAt' | 'id'>,
  cursor: SyncCursor | null,
): boolean {
  if (cursor === null) {
    return true;
  }
  const byTime = compareInstants(record.modifiedAt, cursor.modifiedAt);
  if (byTime !== 0) {
    return byTime > 0;
  }
  // No lastId: nothing at that instant is known to be processed; reading it again is harmless, losing it is not.
  return cursor.lastId === undefined || compareIds(record.id, cursor.lastId) > 0;
}

/** The records not yet processed: drops those at or before the cursor (the overlap window re-reads them). */
export function dropSeen<T extends Pick<CrmRecord, 'modifiedAt' | 'id'>>(
  records: readonly T[],
  cursor: SyncCursor | null,
): T[] {
  return records.filter((record) => isAfterCursor(record, cursor));
}

/**
 * The cursor after processing `records` on top of `previous`: the greatest (modifiedAt, id) seen. Records need not be
 * sorted. Returns `previous` when no record is after it, so a cursor never moves backwards.
 */
export function cursorAfter(
  records: readonly Pick<CrmRecord, 'modifiedAt' | 'id'>[],
  previous: SyncCursor | null,
): SyncCursor | null {
  let greatest: Pick<CrmRecord, 'modifiedAt' | 'id'> | undefined;
  for (const record of records) {
    if (greatest === undefined || compareByCursorPosition(record, greatest) > 0) {
      greatest = record;
    }
  }
  if (greatest === undefined || !isAfterCursor(greatest, previous)) {
    return previous;
  }
  return { modifiedAt: toUtcIso(greatest.modifiedAt), lastId: greatest.id };
}

/**
 * Where an incremental read starts. CRMs commit records with a modification time slightly in the past (a transaction
 * that began earlier, a search index that shows a write a few seconds late), so a read that starts exactly at the
 * cursor could miss them: it starts up to `overlapMs` (the longest such lag) before the cursor's instant, and
 * `dropSeen` removes the re-read records. But a record modified more than `overlapMs` before the previous read
 * started was already visible to that read; when the cursor says when that was (`readAt`), the look-back stops
 * there: a run soon after a large write re-reads the write once, not on every run within the overlap.
 * Null cursor: read everything.
 */
export function readWindowStart(cursor: SyncCursor | null, overlapMs: number): string | null {
  if (cursor === null) {
    return null;
  }
  if (!Number.isFinite(overlapMs) || overlapMs < 0) {
    throw new RangeError(`overlapMs must be a non-negative number, got ${overlapMs}`);
  }
  const instant = parseInstant(cursor.modifiedAt);
  // Sub-millisecond digits are dropped, which moves the start earlier: a slightly wider overlap, never a gap.
  const cursorMs = instant.secondMs + Math.floor(instant.fractionNs / 1_000_000);
  let startMs = cursorMs - overlapMs;
  if (cursor.readAt !== undefined) {
    const readAtMs = Date.parse(cursor.readAt);
    // Everything up to (previous read start − lag) was visible then; never start after the cursor itself.
    if (Number.isFinite(readAtMs)) startMs = Math.max(startMs, Math.min(cursorMs, readAtMs - overlapMs));
  }
  return new Date(startMs).toISOString();
}
