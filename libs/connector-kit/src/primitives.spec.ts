import { inBatches } from './batches';
import { normaliseEmail, uniqueNormalisedEmails } from './email';
import { collectPages, paginate } from './paginate';
import { ConcurrencyGate, mapWithConcurrency } from './pool';
import type { PaginationFacts } from './http-facts';

/** A promise the test settles by hand, so concurrency is observed without timers. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('inBatches', () => {
  it('splits at the limit and keeps order, the last batch holding the rest', () => {
    expect(inBatches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(inBatches([], 200)).toEqual([]);
  });

  it('refuses a batch size that would loop or drop records', () => {
    expect(() => inBatches([1], 0)).toThrow('positive integer');
    expect(() => inBatches([1], 1.5)).toThrow('positive integer');
  });
});

describe('normaliseEmail', () => {
  it('trims and lower-cases, and treats blanks and non-strings as no e-mail', () => {
    expect(normaliseEmail('  Ada@Example.COM ')).toBe('ada@example.com');
    expect(normaliseEmail('   ')).toBeUndefined();
    expect(normaliseEmail(null)).toBeUndefined();
    expect(uniqueNormalisedEmails(['A@x.io', 'a@x.io ', '', 'b@x.io'])).toEqual(['a@x.io', 'b@x.io']);
  });
});

describe('ConcurrencyGate', () => {
  it('never lets more than its limit run at once, and serves waiters in arrival order', async () => {
    const gate = new ConcurrencyGate(2);
    const releases = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const calls = releases.map((release, index) =>
      gate.run(async () => {
        started.push(index);
        await release.promise;
        return index;
      }),
    );
    await flush();
    expect(started).toEqual([0, 1]);
    expect(gate.inFlight).toBe(2);
    releases[1].resolve();
    await flush();
    expect(started).toEqual([0, 1, 2]);
    releases[0].resolve();
    releases[2].resolve();
    releases[3].resolve();
    expect(await Promise.all(calls)).toEqual([0, 1, 2, 3]);
    expect(gate.maxInFlight).toBe(2);
    expect(gate.inFlight).toBe(0);
  });

  it('frees the slot of a call that throws', async () => {
    const gate = new ConcurrencyGate(1);
    await expect(gate.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(async () => 'next')).toBe('next');
  });
});

describe('mapWithConcurrency', () => {
  it('keeps input order and stops starting tasks after a fatal error', async () => {
    const seen: number[] = [];
    await expect(
      mapWithConcurrency([1, 2, 3, 4], 1, async (item) => {
        seen.push(item);
        if (item === 2) throw new Error('fatal');
        return item;
      }),
    ).rejects.toThrow('fatal');
    expect(seen).toEqual([1, 2]);
    expect(await mapWithConcurrency([3, 1, 2], 2, async (item) => item * 10)).toEqual([30, 10, 20]);
  });
});

describe('paginate with prefetch', () => {
  it('asks for the next page while the caller still holds the current one', async () => {
    const requested: Array<string | undefined> = [];
    const pages = paginate(
      async (token) => {
        requested.push(token);
        return {
          n: requested.length,
          nextPageToken: requested.length < 3 ? `t${requested.length}` : undefined,
        };
      },
      { prefetch: true },
    );
    const first = await pages.next();
    expect(first.value).toMatchObject({ n: 1 });
    expect(requested).toEqual([undefined, 't1']);
    const rest: number[] = [];
    for await (const page of pages) rest.push(page.n);
    expect(rest).toEqual([2, 3]);
    expect(requested).toEqual([undefined, 't1', 't2']);
  });
});

describe('collectPages', () => {
  it('follows the declared next path and items path until the last page', async () => {
    const facts: PaginationFacts = {
      style: 'cursor',
      itemsPath: 'data',
      nextPath: 'additional_data.next_cursor',
      maxPageSize: 2,
    };
    const bodies: Record<string, unknown> = {
      first: { data: [1, 2], additional_data: { next_cursor: 'c2' } },
      c2: { data: [3], additional_data: { next_cursor: null } },
    };
    const asked: Array<string | undefined> = [];
    const items = await collectPages<number>(facts, async (token) => {
      asked.push(token);
      return bodies[token ?? 'first'];
    });
    expect(items).toEqual([1, 2, 3]);
    expect(asked).toEqual([undefined, 'c2']);
  });
});
