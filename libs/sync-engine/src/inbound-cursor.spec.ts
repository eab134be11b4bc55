import { CrmError, CrmErrorCode } from '@pm/integration-port';
import { inMemorySyncHarness } from './testing';

/** Records, in order, each page's local writes, its links and the inbound cursor saves. */
function recordOrder(t: ReturnType<typeof inMemorySyncHarness>) {
  const events: string[] = [];
  const apply = t.locals.apply.bind(t.locals);
  t.locals.apply = async (...args) => {
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

/** The third read of the change feed fails with `error`; the ones before succeed. */
function failThirdRead(t: ReturnType<typeof inMemorySyncHarness>, error: unknown): void {
  const read = t.connector.readChanges.bind(t.connector);
  let reads = 0;
  t.connector.readChanges = async (...args) => {
    if (++reads === 3) throw error;
    return read(...args);
  };
}

describe('InboundPass cursor (saved while the next pages are read)', () => {
  it('passes records only after their contacts and links are saved, and only forward', async () => {
    const t = inMemorySyncHarness({ direction: 'from_crm' }, { readPageSize: 2 });
    const ids = ['a', 'b', 'c', 'd', 'e'].map(
      (name) => t.crm.createRecord('contacts', { email: `${name}@example.com` }).id,
    );
    const events = recordOrder(t);

    expect((await t.run()).status).toBe('succeeded');

    const cursors = events.flatMap((event, at) =>
      event.startsWith('cursor ') ? [{ at, id: event.slice(7) }] : [],
    );
    expect(cursors.at(-1)?.id).toBe(ids[4]);
    let previous = -1;
    for (const { at, id } of cursors) {
      const through = ids.indexOf(id);
      expect(through).toBeGreaterThan(previous);
      previous = through;
      const linkedBefore = events.slice(0, at).filter((event) => event.startsWith('links '));
      const linked = new Set(linkedBefore.flatMap((event) => event.slice(6).split(',')));
      expect(ids.slice(0, through + 1).filter((crmId) => !linked.has(crmId))).toEqual([]);
    }
  });

  it('a read that fails after two pages keeps them applied and passed; the next run applies only the rest', async () => {
    const t = inMemorySyncHarness({ direction: 'from_crm' }, { readPageSize: 2 });
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'].map(
      (name) => t.crm.createRecord('contacts', { email: `${name}@example.com` }).id,
    );
    failThirdRead(t, new CrmError(CrmErrorCode.QUOTA_EXHAUSTED, 'daily'));

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
