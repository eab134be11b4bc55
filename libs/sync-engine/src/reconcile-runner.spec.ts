import type { ConnectionSettings } from '@pm/domain/model';
import { ReconcileRunner } from './reconcile-runner';
import { inMemoryMappings, inMemorySyncHarness } from './testing';

/** The sync harness plus a reconcile runner on the same CRM, stores and counting port. */
function setup(settings: Partial<ConnectionSettings> = {}) {
  const t = inMemorySyncHarness(settings);
  const reconciler = new ReconcileRunner({
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
  let runs = 0;
  const reconcile = () => reconciler.run({ connection: t.connection, runId: `reconcile-${++runs}` });
  const activeLinks = () => t.links.links.filter((link) => link.unlinkedAt === null).length;
  /** An instant the sync has long passed: a change stamped with it is one no change read will bring. */
  const longAgo = '2026-01-01T00:00:00.500Z';
  return { ...t, reconcile, activeLinks, longAgo };
}

async function sixtySevenSynced(settings: Partial<ConnectionSettings> = {}) {
  const t = setup(settings);
  for (let i = 0; i < 67; i++) t.locals.add(`person${i}@example.com`, { firstName: `P${i}` });
  expect((await t.run()).status).toBe('succeeded');
  // The second run reads the records the first one created, so both cursors have passed every record.
  expect((await t.run()).status).toBe('succeeded');
  expect(t.crm.listRecords('contacts')).toHaveLength(67);
  return t;
}

describe('ReconcileRunner (in-memory CRM and stores)', () => {
  it("finds the 7 records that vanished from the CRM behind the service's back, reports 67 against 60, and unlinks them (propagateDeletes off)", async () => {
    const t = await sixtySevenSynced();
    const vanished = t.crm.listRecords('contacts').slice(10, 17);
    for (const record of vanished) t.crm.purgeRecord('contacts', record.id);

    // The ordinary sync cannot see it: no change read reports a purge.
    const sync = await t.run();
    expect(sync.counts.from_crm?.contacts?.deleted ?? 0).toBe(0);
    expect(t.activeLinks()).toBe(67);

    t.counting.reset();
    const outcome = await t.reconcile();
    expect(outcome.status).toBe('succeeded');
    expect(outcome.drift.contacts).toEqual({
      crmRecords: 60,
      localContacts: 67,
      missingInCrm: 7,
      changedInCrm: 0,
      notInCrm: 0,
      changedLocally: 0,
      notInPenguinMails: 0,
    });
    expect(outcome.counts.from_crm.contacts.deleted).toBe(7);
    expect(t.log.messages()).toContain(
      'Reconcile: 7 records missing in In-memory CRM — PenguinMails holds 67 contacts and In-memory CRM 60',
    );
    // By the rules: the links end, the contacts stay, and nothing is created again in the CRM.
    expect(t.activeLinks()).toBe(60);
    expect(t.locals.contacts.filter((contact) => !contact.deletedAt)).toHaveLength(67);
    expect(t.counting.calls.upsertBatch).toBe(0);
    expect(t.counting.calls.readChanges).toBe(0);

    const again = await t.reconcile();
    expect(again.drift.contacts.missingInCrm).toBe(0);
    expect(t.log.messages()).toContain(
      'Reconcile: no drift — PenguinMails holds 67 contacts and In-memory CRM 60',
    );
    await t.run();
    expect(t.crm.listRecords('contacts')).toHaveLength(60);
  });

  it('never ends a link whose record the listing lacked but the CRM still answers for by id', async () => {
    const t = await sixtySevenSynced({ propagateDeletes: true });
    const hidden = t.crm.listRecords('contacts')[5].id;
    const list = t.connector.listIds.bind(t.connector);
    t.connector.listIds = async (session, request) => {
      const page = await list(session, request);
      return { ...page, ids: page.ids.filter((stamp) => stamp.id !== hidden) };
    };
    const outcome = await t.reconcile();
    expect(outcome.drift.contacts.missingInCrm).toBe(0);
    expect(t.activeLinks()).toBe(67);
    expect(t.locals.contacts.filter((contact) => !contact.deletedAt)).toHaveLength(67);
  });

  it('reports but does not repair more than half of the links gone at once (another account, lost permissions)', async () => {
    const t = await sixtySevenSynced({ propagateDeletes: true });
    for (const record of t.crm.listRecords('contacts').slice(0, 40)) t.crm.purgeRecord('contacts', record.id);
    const outcome = await t.reconcile();
    expect(outcome.drift.contacts.missingInCrm).toBe(40);
    expect(outcome.status).toBe('succeeded');
    expect(t.activeLinks()).toBe(67);
    expect(t.locals.contacts.filter((contact) => !contact.deletedAt)).toHaveLength(67);
    expect(t.log.messages()).toContain(
      'Reconcile: 40 of 67 linked records missing in In-memory CRM; not repaired, as so many gone at once more likely means another account or lost permissions',
    );
  });

  it('with propagateDeletes, the contacts whose records vanished are deleted in PenguinMails too', async () => {
    const t = await sixtySevenSynced({ propagateDeletes: true });
    for (const record of t.crm.listRecords('contacts').slice(0, 7)) t.crm.purgeRecord('contacts', record.id);
    const outcome = await t.reconcile();
    expect(outcome.drift.contacts.missingInCrm).toBe(7);
    expect(t.locals.contacts.filter((contact) => !contact.deletedAt)).toHaveLength(60);
    expect(t.log.messages().filter((message) => message.startsWith('Contact deleted: '))).toHaveLength(7);
  });

  it('finds a CRM edit stamped before the cursor (no change read brings it) and applies it by the inbound path', async () => {
    const t = await sixtySevenSynced();
    // Stamped after the link's snapshot but before the cursor: a search index that lagged, an event that was lost.
    const record = t.crmContact('person3@example.com') as { id: string; modifiedAt: string };
    const stamped = new Date(Date.parse(record.modifiedAt) + 500).toISOString();
    t.crm.updateRecord('contacts', record.id, { firstname: 'Changed' }, stamped);
    await t.run();
    expect(t.locals.byEmail('person3@example.com')?.values.firstName).toBe('P3');

    const outcome = await t.reconcile();
    expect(outcome.drift.contacts.changedInCrm).toBe(1);
    expect(outcome.counts.from_crm.contacts.updated).toBe(1);
    expect(t.locals.byEmail('person3@example.com')?.values.firstName).toBe('Changed');
    expect((await t.reconcile()).drift.contacts.changedInCrm).toBe(0);
  });

  it('finds a local change and a local contact the outbound read passed over, and pushes them', async () => {
    const t = await sixtySevenSynced();
    // A write that committed after the outbound read had passed its instant (a long transaction).
    const edited = t.locals.byEmail('person5@example.com');
    const link = t.links.links.find((candidate) => candidate.localId === edited?.id);
    Object.assign(edited?.values ?? {}, { firstName: 'Edited' });
    if (edited && link?.localUpdatedAt) edited.updatedAt = new Date(link.localUpdatedAt.getTime() + 1);
    const missed = t.locals.add('missed@example.com', { firstName: 'Missed' });
    missed.updatedAt = new Date(t.longAgo);
    await t.run();
    expect(t.crmContact('missed@example.com')).toBeUndefined();

    const outcome = await t.reconcile();
    expect(outcome.drift.contacts).toMatchObject({ changedLocally: 1, notInCrm: 1, localContacts: 68 });
    expect(t.crmContact('person5@example.com')?.fields.firstname).toBe('Edited');
    expect(t.crmContact('missed@example.com')?.fields.firstname).toBe('Missed');
    expect((await t.reconcile()).drift.contacts).toMatchObject({ changedLocally: 0, notInCrm: 0 });
  });

  it('finds a CRM record the inbound read passed over and brings it in; a change after the cursor is left to the sync', async () => {
    const t = await sixtySevenSynced();
    t.crm.createRecord('contacts', { email: 'old@example.com', firstname: 'Old' }, t.longAgo);
    t.crm.createRecord('contacts', { email: 'new@example.com', firstname: 'New' });
    const outcome = await t.reconcile();
    expect(outcome.drift.contacts).toMatchObject({ notInPenguinMails: 1, crmRecords: 69 });
    expect(t.locals.byEmail('old@example.com')).toBeDefined();
    expect(t.locals.byEmail('new@example.com')).toBeUndefined();
  });

  it('reports nothing to repair on a one-way connection for the side it does not read', async () => {
    const t = await sixtySevenSynced({ direction: 'to_crm' });
    t.crm.createRecord('contacts', { email: 'crm-only@example.com', firstname: 'Crm' }, t.longAgo);
    const outcome = await t.reconcile();
    expect(outcome.drift.contacts.notInPenguinMails).toBe(0);
    expect(t.locals.byEmail('crm-only@example.com')).toBeUndefined();
  });
});
