import { ContactPushRunner } from './contact-push-runner';
import { inMemoryMappings, inMemorySyncHarness } from './testing';

function setup(settings: Parameters<typeof inMemorySyncHarness>[0] = {}) {
  const t = inMemorySyncHarness(settings);
  const pusher = new ContactPushRunner({
    port: t.counting.port,
    sessions: t.sessions,
    links: t.links,
    cursors: t.cursors,
    locals: t.locals,
    retries: t.retries,
    log: t.log,
    mappings: inMemoryMappings,
    options: { sleep: async () => undefined, localOverlapMs: 0 },
  });
  let pushes = 0;
  const push = (contactIds: string[]) =>
    pusher.run({ connection: t.connection, contactIds, pushId: `push-${++pushes}` });
  return { ...t, push };
}

describe('ContactPushRunner (in-memory CRM and stores)', () => {
  it('writes just the given contacts, batched at the connector limit, and moves no cursor', async () => {
    const t = setup();
    const pushed = Array.from({ length: 7 }, (_, i) =>
      t.locals.add(`p${i}@example.com`, { firstName: `P${i}` }),
    );
    t.locals.add('other@example.com', { firstName: 'Other' });

    const outcome = await t.push(pushed.map((contact) => contact.id));
    expect(outcome.status).toBe('succeeded');
    expect(outcome.counts.to_crm.contacts.created).toBe(7);
    expect(t.counting.batchSizes).toEqual([3, 3, 1]);
    expect(t.counting.calls.readChanges).toBe(0);
    expect(t.crmContact('other@example.com')).toBeUndefined();
    expect((await t.cursors.load(t.connection.id, 'contact', 'to_crm')).value).toBeNull();
    expect(t.log.messages()).toContain('Contact synced: p0@example.com → In-memory CRM');
  });

  it('updates a linked contact with only what changed, and the sync after it writes nothing either way (no echo)', async () => {
    const t = setup();
    t.locals.add('a@example.com', { firstName: 'Ann', company: 'Old Co' });
    await t.run();
    await t.run();
    const edited = t.locals.edit('a@example.com', { company: 'New Co' });
    t.counting.reset();
    await t.push([edited.id]);
    expect(t.crmContact('a@example.com')?.fields.company).toBe('New Co');
    expect(t.counting.batchSizes).toEqual([1]);

    t.counting.reset();
    const before = structuredClone(t.locals.contacts);
    const sync = await t.run();
    expect(t.counting.calls.upsertBatch).toBe(0);
    expect(sync.counts.from_crm?.contacts?.updated ?? 0).toBe(0);
    expect(t.locals.contacts).toEqual(before);
  });

  it('pushes a deletion by the rules: with propagateDeletes the CRM record goes and the link ends', async () => {
    const t = setup({ propagateDeletes: true });
    const contact = t.locals.add('gone@example.com', { firstName: 'Gone' });
    await t.run();
    expect(t.crmContact('gone@example.com')).toBeDefined();
    await t.locals.markDeleted('acme', contact.id);
    const outcome = await t.push([contact.id]);
    expect(outcome.counts.to_crm.contacts.deleted).toBe(1);
    expect(t.crmContact('gone@example.com')).toBeUndefined();
    expect(t.links.links.filter((link) => link.unlinkedAt === null)).toHaveLength(0);
  });

  it('pushes nothing on a connection that only reads from the CRM', async () => {
    const t = setup({ direction: 'from_crm' });
    const contact = t.locals.add('r@example.com', { firstName: 'Read' });
    await t.push([contact.id]);
    expect(t.counting.calls.upsertBatch).toBe(0);
  });
});
