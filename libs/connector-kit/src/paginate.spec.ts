import {
  CrmError,
  CrmErrorCode,
  type ChangePage,
  type CrmRecord,
  type CrmSession,
  type ReadChangesRequest,
} from '@pm/integration-port';
import { compareByCursorPosition, compareInstants, cursorAfter, dropSeen, isAfterCursor } from './cursor';
import { paginate, readAllChanges, RepeatedPageTokenError } from './paginate';
import { withRetry } from './retry';

const session: CrmSession = { connectionId: 'connection-1', accessToken: 'token' };

/** A CRM that pages by (modifiedAt, id) position and reads `since` inclusively, as the real ones do. */
class PositionPagingCrm {
  readonly calls: ReadChangesRequest[] = [];
  failNextCallWith?: CrmError;

  constructor(
    private readonly records: CrmRecord[],
    private readonly pageSize: number,
  ) {}

  async readChanges(_session: CrmSession, request: ReadChangesRequest): Promise<ChangePage> {
    this.calls.push(request);
    if (this.failNextCallWith) {
      const error = this.failNextCallWith;
      this.failNextCallWith = undefined;
      throw error;
    }
    const position = request.pageToken === undefined ? null : JSON.parse(request.pageToken);
    const matching = [...this.records]
      .sort(compareByCursorPosition)
      .filter((r) => request.since === null || compareInstants(r.modifiedAt, request.since.modifiedAt) >= 0)
      .filter((r) => isAfterCursor(r, position));
    const page = matching.slice(0, this.pageSize);
    const last = page[page.length - 1];
    return {
      records: page,
      deleted: [],
      nextPageToken:
        matching.length > page.length
          ? JSON.stringify({ modifiedAt: last.modifiedAt, lastId: last.id })
          : undefined,
    };
  }
}

function contactsSharingOneInstant(count: number, modifiedAt: string): CrmRecord[] {
  return Array.from({ length: count }, (_, index) => ({
    id: String(index + 1),
    object: 'contacts',
    modifiedAt,
    fields: { email: `person${index + 1}@example.com` },
  }));
}

async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const page of pages) {
    result.push(page);
  }
  return result;
}

describe('paginate', () => {
  it('follows tokens until a page has none and fetches a page only when the previous one was taken', async () => {
    const fetched: (string | undefined)[] = [];
    const pages: Record<string, { items: number[]; nextPageToken?: string }> = {
      first: { items: [1, 2], nextPageToken: 'b' },
      b: { items: [3], nextPageToken: 'c' },
      c: { items: [4] },
    };
    const iterator = paginate(async (token) => {
      fetched.push(token);
      return pages[token ?? 'first'];
    });
    const first = await iterator.next();
    expect(first.value).toEqual(pages.first);
    expect(fetched).toEqual([undefined]);
    const rest = await collect({ [Symbol.asyncIterator]: () => iterator });
    expect(rest.flatMap((page) => page.items)).toEqual([3, 4]);
    expect(fetched).toEqual([undefined, 'b', 'c']);
  });

  it('treats an empty-string token as the last page', async () => {
    const pages = await collect(paginate(async () => ({ items: [1], nextPageToken: '' })));
    expect(pages).toHaveLength(1);
  });

  it('stops with a clear error when the CRM returns a token it already gave, instead of looping', async () => {
    const tokens = ['a', 'b', 'a'];
    let call = 0;
    const seen: number[] = [];
    const read = async () => {
      for await (const page of paginate(async () => ({ n: call, nextPageToken: tokens[call++] }))) {
        seen.push(page.n);
      }
    };
    await expect(read()).rejects.toThrow(RepeatedPageTokenError);
    await expect(collect(paginate(async () => ({ nextPageToken: 'same' })))).rejects.toThrow(
      'returned next page token "same", which was already followed',
    );
    expect(seen).toEqual([0, 1, 2]);
  });

  it('stops between pages when the signal aborts', async () => {
    const controller = new AbortController();
    let fetches = 0;
    const read = async () => {
      for await (const page of paginate(async () => ({ page: ++fetches, nextPageToken: `t${fetches}` }), {
        signal: controller.signal,
      })) {
        if (page.page === 2) controller.abort();
      }
    };
    await expect(read()).rejects.toMatchObject({ code: CrmErrorCode.ABORTED });
    expect(fetches).toBe(2);
  });
});

describe('paginate with prefetch', () => {
  it('asks for the next page before the caller starts on the current one, and never holds more than two', async () => {
    const events: string[] = [];
    const pages: Record<string, { id: string; nextPageToken?: string }> = {
      first: { id: '1', nextPageToken: 'p2' },
      p2: { id: '2', nextPageToken: 'p3' },
      p3: { id: '3' },
    };
    const fetchPage = async (token: string | undefined) => {
      events.push(`fetch ${token ?? 'first'}`);
      return pages[token ?? 'first'];
    };
    for await (const current of paginate(fetchPage, { prefetch: true })) events.push(`apply ${current.id}`);
    expect(events).toEqual(['fetch first', 'fetch p2', 'apply 1', 'fetch p3', 'apply 2', 'apply 3']);
  });

  it('finishes the page in hand and fetches nothing more once asked to stop', async () => {
    const controller = new AbortController();
    let fetches = 0;
    const applied: string[] = [];
    const read = async () => {
      const pages = paginate(
        async () => {
          fetches++;
          return { id: String(fetches), nextPageToken: `p${fetches + 1}` };
        },
        { prefetch: true, signal: controller.signal },
      );
      for await (const current of pages) {
        applied.push(current.id);
        if (applied.length === 2) controller.abort();
      }
    };
    await expect(read()).rejects.toMatchObject({ code: CrmErrorCode.ABORTED });
    expect(applied).toEqual(['1', '2']);
    // The third page was already asked for while the second was applied; no fourth.
    expect(fetches).toBe(3);
  });

  it('refuses a CRM that hands back a page token it already gave, without fetching it again', async () => {
    let fetches = 0;
    const read = collect(
      paginate(
        async () => {
          fetches++;
          return { nextPageToken: 'same' };
        },
        { prefetch: true },
      ),
    );
    await expect(read).rejects.toBeInstanceOf(RepeatedPageTokenError);
    expect(fetches).toBe(2);
  });
});

describe('readAllChanges', () => {
  const instant = '2026-01-15T12:00:00.000Z';

  it('yields 2,500 records sharing one timestamp across pages exactly once, oldest first with ties by id', async () => {
    const crm = new PositionPagingCrm(contactsSharingOneInstant(2500, instant), 1000);
    const pages = await collect(
      readAllChanges(crm, session, { object: 'contacts', since: null, pageSize: 1000 }),
    );
    const ids = pages.flatMap((page) => page.records.map((r) => r.id));
    expect(pages.map((page) => page.records.length)).toEqual([1000, 1000, 500]);
    expect(new Set(ids).size).toBe(2500);
    expect(ids).toEqual(Array.from({ length: 2500 }, (_, i) => String(i + 1)));
    expect(crm.calls.map((call) => call.pageToken === undefined)).toEqual([true, false, false]);
  });

  it('resumes from a cursor saved inside a timestamp group without losing or repeating a record', async () => {
    const crm = new PositionPagingCrm(contactsSharingOneInstant(2500, instant), 1000);
    const firstRead = readAllChanges(crm, session, { object: 'contacts', since: null });
    const firstPage = (await firstRead.next()).value as ChangePage;
    // The run stops after one page (a crash, a deploy); only its cursor survives.
    await firstRead.return();
    const cursor = cursorAfter(firstPage.records, null);
    expect(cursor).toEqual({ modifiedAt: instant, lastId: '1000' });

    const resumed = await collect(readAllChanges(crm, session, { object: 'contacts', since: cursor }));
    const newIds = resumed.flatMap((page) => dropSeen(page.records, cursor).map((r) => r.id));
    expect(newIds).toHaveLength(1500);
    expect(new Set([...firstPage.records.map((r) => r.id), ...newIds]).size).toBe(2500);
  });

  it('retries one failed page through the wrapper without starting the read over', async () => {
    const crm = new PositionPagingCrm(contactsSharingOneInstant(30, instant), 10);
    let pagesRead = 0;
    const pages: ChangePage[] = [];
    for await (const page of readAllChanges(
      crm,
      session,
      { object: 'contacts', since: null },
      { callPage: (call) => withRetry(call, { sleep: async () => undefined }) },
    )) {
      pages.push(page);
      if (++pagesRead === 1) {
        crm.failNextCallWith = new CrmError(CrmErrorCode.CRM_UNAVAILABLE, 'Service Unavailable', {
          status: 503,
        });
      }
    }
    expect(pages.flatMap((page) => page.records).map((r) => r.id)).toHaveLength(30);
    expect(crm.calls).toHaveLength(4);
    expect(crm.calls[1].pageToken).toBe(crm.calls[2].pageToken);
  });
});
