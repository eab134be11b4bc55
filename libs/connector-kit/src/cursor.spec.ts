import {
  compareIds,
  compareInstants,
  cursorAfter,
  dropSeen,
  isAfterCursor,
  readWindowStart,
  toUtcIso,
} from './cursor';

const record = (id: string, modifiedAt: string) => ({ id, modifiedAt });

describe('compareInstants', () => {
  it('compares timestamps written in different zones as the same UTC instant', () => {
    expect(compareInstants('2026-01-15T14:00:00+02:00', '2026-01-15T12:00:00Z')).toBe(0);
    expect(compareInstants('2026-01-15T12:00:00.000+0000', '2026-01-15T12:00:00Z')).toBe(0);
    expect(compareInstants('2026-01-15T13:59:59+02:00', '2026-01-15T12:00:00Z')).toBeLessThan(0);
  });

  it('reads a timestamp without a zone as UTC, not local time', () => {
    expect(compareInstants('2026-01-15 12:00:00', '2026-01-15T12:00:00.000Z')).toBe(0);
  });

  it('orders sub-millisecond digits that Date would drop', () => {
    expect(compareInstants('2026-01-15T12:00:00.123456Z', '2026-01-15T12:00:00.123457Z')).toBeLessThan(0);
    expect(toUtcIso('2026-01-15T14:00:00.123456+02:00')).toBe('2026-01-15T12:00:00.123456Z');
  });

  it('rejects a value that is not a timestamp instead of comparing it as text', () => {
    expect(() => compareInstants('yesterday', '2026-01-15T12:00:00Z')).toThrow('Not an ISO-8601 timestamp');
  });
});

describe('compareIds', () => {
  it('orders numeric ids numerically, also beyond 2^53', () => {
    expect(compareIds('9', '10')).toBeLessThan(0);
    expect(compareIds('9007199254740993', '9007199254740992')).toBeGreaterThan(0);
    expect(compareIds('007', '7')).toBe(0);
  });

  it('orders other ids by code unit, independent of locale', () => {
    expect(compareIds('003B', '003a')).toBeLessThan(0);
    expect(compareIds('a10', 'a9')).toBeLessThan(0);
    expect(compareIds('10', 'a')).toBeLessThan(0);
  });
});

describe('cursorAfter', () => {
  it('takes the greatest (modifiedAt, id) of unsorted records, ids compared numerically', () => {
    const cursor = cursorAfter(
      [
        record('10', '2026-01-15T12:00:00Z'),
        record('9', '2026-01-15T12:00:00Z'),
        record('99', '2026-01-15T11:00:00Z'),
      ],
      null,
    );
    expect(cursor).toEqual({ modifiedAt: '2026-01-15T12:00:00.000Z', lastId: '10' });
  });

  it('never moves the cursor backwards and keeps it when there is nothing new', () => {
    const previous = { modifiedAt: '2026-01-15T12:00:00.000Z', lastId: '50' };
    expect(cursorAfter([record('40', '2026-01-15T12:00:00Z')], previous)).toBe(previous);
    expect(cursorAfter([], previous)).toBe(previous);
    expect(cursorAfter([], null)).toBeNull();
    expect(cursorAfter([record('51', '2026-01-15T14:00:00+02:00')], previous)).toEqual({
      modifiedAt: '2026-01-15T12:00:00.000Z',
      lastId: '51',
    });
  });
});

describe('dropSeen / isAfterCursor', () => {
  const cursor = { modifiedAt: '2026-01-15T12:00:00.000Z', lastId: '10' };

  it('drops records at the cursor instant up to lastId and keeps the rest of that instant', () => {
    const records = [
      record('2', '2026-01-15T12:00:00Z'),
      record('10', '2026-01-15T14:00:00+02:00'),
      record('11', '2026-01-15T12:00:00Z'),
      record('100', '2026-01-15T12:00:00.000Z'),
    ];
    expect(dropSeen(records, cursor).map((r) => r.id)).toEqual(['11', '100']);
  });

  it('keeps any later record and drops any earlier one, whatever its id', () => {
    expect(isAfterCursor(record('1', '2026-01-15T12:00:00.001Z'), cursor)).toBe(true);
    expect(isAfterCursor(record('999', '2026-01-15T11:59:59.999Z'), cursor)).toBe(false);
  });

  it('keeps everything at the instant when the cursor has no lastId, and everything for a null cursor', () => {
    expect(isAfterCursor(record('1', '2026-01-15T12:00:00Z'), { modifiedAt: cursor.modifiedAt })).toBe(true);
    expect(dropSeen([record('1', '2000-01-01T00:00:00Z')], null)).toHaveLength(1);
  });
});

describe('readWindowStart', () => {
  it('starts the read overlapMs before the cursor instant', () => {
    expect(readWindowStart({ modifiedAt: '2026-01-15T12:00:00.000Z', lastId: '5' }, 60_000)).toBe(
      '2026-01-15T11:59:00.000Z',
    );
    expect(readWindowStart({ modifiedAt: '2026-01-15T14:00:00.250+02:00' }, 0)).toBe(
      '2026-01-15T12:00:00.250Z',
    );
  });

  it('looks back no further than the previous read start less the overlap (readAt)', () => {
    const cursor = { modifiedAt: '2026-01-15T12:00:00.000Z', lastId: '5' };
    // The previous read started 5 s after the cursor: only the last 55 s before it could have been missed.
    expect(readWindowStart({ ...cursor, readAt: '2026-01-15T12:00:05.000Z' }, 60_000)).toBe(
      '2026-01-15T11:59:05.000Z',
    );
    // Started long after: nothing before the cursor could have been missed.
    expect(readWindowStart({ ...cursor, readAt: '2026-01-15T12:05:00.000Z' }, 60_000)).toBe(
      '2026-01-15T12:00:00.000Z',
    );
    // A read start before the cursor (clock skew) never narrows the plain overlap.
    expect(readWindowStart({ ...cursor, readAt: '2026-01-15T11:00:00.000Z' }, 60_000)).toBe(
      '2026-01-15T11:59:00.000Z',
    );
  });

  it('reads everything without a cursor and refuses a negative overlap', () => {
    expect(readWindowStart(null, 60_000)).toBeNull();
    expect(() => readWindowStart({ modifiedAt: '2026-01-15T12:00:00Z' }, -1)).toThrow(RangeError);
  });
});
