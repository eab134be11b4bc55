import { CrmErrorCode, type ChangePage } from '@pm/integration-port';
import { readAhead } from './page-read-ahead';

const page = (...ids: string[]): ChangePage => ({
  records: ids.map((id) => ({ object: 'contacts', id, modifiedAt: '2026-01-01T00:00:00.000Z', fields: {} })),
  deleted: [],
});
const ids = (group: ChangePage) => group.records.map((record) => record.id);

/**
 * A change feed whose pages arrive when the test says: `release(n)` lets the first n pages through; `asked(n)`
 * resolves once page n is asked for (so every page before it has been handed over).
 */
function gatedFeed(pages: (ChangePage | Error)[]) {
  let released = 0;
  const waiting: (() => void)[] = [];
  const askedFor = pages.map(() => {
    let resolve = () => undefined as void;
    const promise = new Promise<void>((done) => (resolve = done));
    return { promise, resolve };
  });
  async function* feed(): AsyncGenerator<ChangePage, void, undefined> {
    for (const [index, item] of pages.entries()) {
      askedFor[index].resolve();
      while (released <= index) await new Promise<void>((resolve) => waiting.push(resolve));
      if (item instanceof Error) throw item;
      yield item;
    }
  }
  return {
    feed: feed(),
    release(count: number) {
      released = count;
      waiting.splice(0).forEach((resolve) => resolve());
    },
    asked: (index: number) => askedFor[index].promise,
  };
}

describe('readAhead (pages read while the caller applies, handed over together)', () => {
  it('joins the pages read meanwhile, within the record limit and never naming a record twice', async () => {
    const gate = gatedFeed([page('a', 'b'), page('c'), page('d'), page('d', 'e'), page('f', 'g', 'h', 'i')]);
    const groups = readAhead(gate.feed, 5);
    const first = groups.next();
    gate.release(1);
    expect(ids((await first).value as ChangePage)).toEqual(['a', 'b']);
    // While the caller applies the first page, three more are read (the fifth is asked for).
    gate.release(4);
    await gate.asked(4);
    expect(ids((await groups.next()).value as ChangePage)).toEqual(['c', 'd']);
    expect(ids((await groups.next()).value as ChangePage)).toEqual(['d', 'e']);
    const last = groups.next();
    gate.release(5);
    expect(ids((await last).value as ChangePage)).toEqual(['f', 'g', 'h', 'i']);
    expect((await groups.next()).done).toBe(true);
  });

  it('hands over the pages read before a failed read, then the failure', async () => {
    const gate = gatedFeed([page('a'), page('b'), new Error('outage')]);
    const groups = readAhead(gate.feed, 10);
    gate.release(3);
    const handed: string[] = [];
    await expect(
      (async () => {
        for await (const group of groups) handed.push(...ids(group));
      })(),
    ).rejects.toThrow('outage');
    expect(handed).toEqual(['a', 'b']);
  });

  it('hands over nothing more once the run is stopped', async () => {
    const gate = gatedFeed([page('a'), page('b'), page('c')]);
    const stop = new AbortController();
    const groups = readAhead(gate.feed, 1, stop.signal);
    gate.release(3);
    expect(ids((await groups.next()).value as ChangePage)).toEqual(['a']);
    stop.abort();
    await expect(groups.next()).rejects.toMatchObject({ code: CrmErrorCode.ABORTED });
  });
});
