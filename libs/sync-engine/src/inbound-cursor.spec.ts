import { CrmError, CrmErrorCode } from '@pm/integration-port';
import { inMemorySyncHarness } from './testing';

/** Records, in order, each page's local writes, its links and the inbound cursor saves. */
function recordOrder(t: ReturnType<typeof inMemorySyncHarness>, onApply?: (count: number) => void) {
  const events: string[] = [];
  let applies = 0;
  const apply = t.locals.apply.bind(t.locals);
  t.locals.apply = async (...args) => {
    onApply?.(++applies);
    events.push(`contacts ${args[1].map((change) => change.email).join(',')}`);
    return apply(...args);
  };
  const save = t.links.save.bind(t.links);
  t.links.save = async (connectionId, links) => {
    events.push(`links ${links.map((link) => link.crmId).join(',')}`);
    return save(connectionId, links);
  };
  const saveCursor = t.cursors.save.bind(t.cursors);
  t.cursors.save = async (connectionId, object, direction, value, options) => {
    // The pages' cursors (not the closing save that marks the first sync complete).
    if (direction === 'from_crm' && value?.lastId && !options?.initialSyncCompleted) {
      events.push(`cursor ${value.lastId}`);
    }
    return saveCursor(connectionId, object, direction, value, options);
  };
  return events;
}

describe('InboundPass cursor (saved while the next page is read)', () => {
  it('passes a page only after its contacts and links are saved, and in page order', async () => {
    const t = inMemorySyncHarness({ direction: 'from_crm' }, { readPageSize: 2 });
    const ids = ['a', 'b', 'c', 'd', 'e'].map(
      (name) => t.crm.createRecord('contacts', { email: `${name}@example.com` }).id,
    );
    const events = recordOrder(t);

    expect((await t.run()).status).toBe('succeeded');

    const cursors = events.filter((event) => event.startsWith('cursor'));
    expect(cursors).toEqual([`cursor ${ids[1]}`, `cursor ${ids[3]}`, `cursor ${ids[4]}`]);
    for (const [page, last] of [
      [0, 1],
      [2, 3],
      [4, 4],
    ]) {
      const linked = events.indexOf(`links ${ids.slice(page, last + 1).join(',')}`);
      expect(linked).toBeGreaterThan(-1);
      expect(events.indexOf(`cursor ${ids[last]}`)).toBeGreaterThan(linked);
    }
  });

  it('a read that fails after two pages keeps their cursor; the next run applies only the rest, no duplicate', async () => {
    const t = inMemorySyncHarness({ direction: 'from_crm' }, { readPageSize: 2 });
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'].map(
      (name) => t.crm.createRecord('contacts', { email: `${name}@example.com` }).id,
    );
    // Pages are read one ahead: the first page's local writes arm a fault for the third page's read, which the
    // run meets once the second page is applied.
    recordOrder(t, (count) => {
      if (count === 1)
        t.counting.failNext('readChanges', new CrmError(CrmErrorCode.QUOTA_EXHAUSTED, 'daily'));
    });

    expect(await t.run()).toMatchObject({ status: 'failed', failure: 'quota' });
    const [state] = [...t.cursors.states.values()];
    expect(state.value?.lastId).toBe(ids[3]);
    expect(t.locals.contacts).toHaveLength(4);

    const resumed = await t.run();
    expect(resumed.status).toBe('succeeded');
    expect(resumed.counts.from_crm?.contacts?.created).toBe(2);
    expect(t.locals.contacts).toHaveLength(6);
    expect(t.links.links).toHaveLength(6);
  });
});
