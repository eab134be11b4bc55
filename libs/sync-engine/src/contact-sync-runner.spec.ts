import { CrmError, CrmErrorCode } from '@pm/integration-port';
import { InMemoryConnector, InMemoryCrm } from '@pm/integration-port/testing';
import { ContactSyncRunner } from './contact-sync-runner';
import type { IntegrationPort } from '@pm/integration-port';
import type {
  CursorStore,
  LinkStore,
  LocalContactStore,
  RetryStore,
  SessionProvider,
  SyncLogSink,
} from './ports';
import {
  aConnection,
  aLocalContact,
  autoMock,
  InMemoryCursorStore,
  InMemoryLinkStore,
  InMemoryLocalContacts,
  InMemoryRetryStore,
  inMemoryMappings,
  inMemorySessions,
  inMemorySyncHarness,
  MemorySyncLog,
} from './testing';

const setup = inMemorySyncHarness;

describe('ContactSyncRunner (in-memory CRM and stores)', () => {
  it('first sync copies each side to the other, then a second run writes nothing to either side', async () => {
    const t = setup();
    t.crm.createRecord('contacts', { email: 'jane@example.com', firstname: 'Jane', company: 'Initech' });
    for (let i = 0; i < 7; i++) t.locals.add(`local${i}@example.com`, { firstName: `L${i}` });

    const first = await t.run();
    expect(first.status).toBe('succeeded');
    expect(t.locals.byEmail('jane@example.com')?.values).toMatchObject({
      firstName: 'Jane',
      company: 'Initech',
    });
    expect(t.crm.listRecords('contacts')).toHaveLength(8);
    expect(first.counts.to_crm.contacts.created).toBe(7);
    expect(first.counts.from_crm.contacts.created).toBe(1);
    // 7 creates at a batch limit of 3: three calls, never one per record.
    expect(t.counting.batchSizes).toEqual([3, 3, 1]);
    expect(t.log.messages()).toContain('Contact synced: local0@example.com → In-memory CRM');
    expect(t.log.messages()).toContain('Contact synced: jane@example.com ← In-memory CRM');

    t.counting.reset();
    const localBefore = structuredClone(t.locals.contacts);
    const second = await t.run();
    expect(second.status).toBe('succeeded');
    expect(t.counting.calls.upsertBatch).toBe(0);
    expect(t.counting.calls.findByEmail).toBe(0);
    expect(t.locals.contacts).toEqual(localBefore);
  });

  it('writes a first export in full batches: local pages hold whole batches of the CRM (no 200, 200, 100)', async () => {
    const t = setup({}, { maxWriteBatch: 200 });
    for (let i = 0; i < 1_200; i++) t.locals.add(`bulk${i}@example.com`, { firstName: `B${i}` });

    const run = await t.run();

    expect(run.counts.to_crm.contacts.created).toBe(1_200);
    expect(t.counting.batchSizes).toEqual([200, 200, 200, 200, 200, 200]);
  });

  it('pushes only the field that changed locally, and pulls only the field that changed in the CRM', async () => {
    const t = setup();
    t.locals.add('a@example.com', { firstName: 'Ann', company: 'Old Co' });
    await t.run();
    const crmId = t.crmContact('a@example.com')?.id as string;

    t.locals.edit('a@example.com', { firstName: 'Anna' });
    t.crm.updateRecord('contacts', crmId, { company: 'New Co' });
    t.counting.reset();
    const run = await t.run();

    expect(t.crm.getRecord('contacts', crmId)?.fields).toMatchObject({
      firstname: 'Anna',
      company: 'New Co',
    });
    expect(t.locals.byEmail('a@example.com')?.values).toMatchObject({ firstName: 'Anna', company: 'New Co' });
    expect(t.counting.batchSizes).toEqual([1]);
    expect(run.counts.from_crm.contacts.conflicts).toBe(0);

    t.counting.reset();
    await t.run();
    expect(t.counting.calls.upsertBatch).toBe(0);
  });

  it.each([
    ['crm_wins', 'CRM Co'],
    ['penguinmails_wins', 'Local Co'],
    ['most_recent', 'CRM Co'],
  ] as const)(
    'with %s, a field edited on both sides ends as %s on both, logged with both values',
    async (policy, winner) => {
      const t = setup({ conflictPolicy: policy });
      t.locals.add('c@example.com', { company: 'Base Co' });
      await t.run();
      const crmId = t.crmContact('c@example.com')?.id as string;
      // Local edit first, CRM edit later (the CRM's clock is ahead of the local one): most recent = the CRM.
      t.locals.edit('c@example.com', { company: 'Local Co' });
      t.crm.updateRecord('contacts', crmId, { company: 'CRM Co' }, '2027-01-01T00:00:00.000Z');

      const run = await t.run();

      expect(t.crm.getRecord('contacts', crmId)?.fields.company).toBe(winner);
      expect(t.locals.byEmail('c@example.com')?.values.company).toBe(winner);
      expect(run.counts.from_crm.contacts.conflicts).toBe(1);
      const line = t.log.lines.find((l) => l.action === 'conflict_resolved');
      expect(line?.message).toBe('Conflict resolved: company field');
      expect(line?.details).toMatchObject({
        penguinmailsValue: 'Local Co',
        crmValue: 'CRM Co',
        value: winner,
      });
      const link = t.links.links[0];
      expect(link.synced.company).toMatchObject({ value: winner, rule: policy });
    },
  );

  it('logs a record the CRM rejects with its message, syncs the rest, and retries it next run', async () => {
    const t = setup();
    t.locals.add('good1@example.com');
    t.locals.add('bad@example.com', { lifecycleStage: 'alien' });
    t.locals.add('good2@example.com');

    const first = await t.run();
    expect(first.status).toBe('partial');
    expect(first.counts.to_crm.contacts).toMatchObject({ created: 2, errors: 1 });
    expect(t.log.messages()).toContain(
      'Contact not synced: bad@example.com → In-memory CRM: alien is not a valid lifecycle stage',
    );
    expect(t.retries.items).toHaveLength(1);

    t.locals.contacts.find((c) => c.email === 'bad@example.com')!.values.lifecycleStage = 'lead';
    const second = await t.run();
    expect(second.status).toBe('succeeded');
    expect(t.crmContact('bad@example.com')?.fields.lifecyclestage).toBe('lead');
    expect(t.retries.items).toHaveLength(0);
  });

  it('matches an existing CRM record by e-mail instead of creating a duplicate, and reports two as a duplicate', async () => {
    const t = setup();
    t.crm.createRecord('contacts', { email: 'Same@Example.com', firstname: 'CRM' });
    t.crm.createRecord('contacts', { email: 'twice@example.com' });
    t.crm.createRecord('contacts', { email: 'twice@example.com' });
    t.locals.add('same@example.com', { lastName: 'Local' });

    await t.run();

    expect(t.crm.recordsByEmail('contacts', ['same@example.com'])).toHaveLength(1);
    expect(t.crmContact('Same@Example.com')?.fields).toMatchObject({ firstname: 'CRM', lastname: 'Local' });
    expect(t.locals.contacts.filter((c) => c.email === 'twice@example.com')).toHaveLength(1);
    expect(
      t.log.lines.some((l) => l.action === 'duplicate_found' && l.recordKey === 'twice@example.com'),
    ).toBe(true);
  });

  it('unlinks and logs a contact deleted in the CRM without deleting it locally', async () => {
    const t = setup();
    t.locals.add('gone@example.com');
    await t.run();
    t.crm.deleteRecord('contacts', t.crmContact('gone@example.com')?.id as string);

    const run = await t.run();

    expect(run.counts.from_crm.contacts.deleted).toBe(1);
    expect(t.locals.byEmail('gone@example.com')?.deletedAt).toBeNull();
    expect(t.links.links[0].unlinkedAt).not.toBeNull();
    expect(t.log.messages()).toContain(
      'Contact unlinked: gone@example.com was deleted in In-memory CRM; kept in PenguinMails',
    );
    // Kept locally, and not created again in the CRM where someone deleted it.
    t.locals.edit('gone@example.com', { firstName: 'Still here' });
    await t.run();
    expect(t.crmContact('gone@example.com')).toBeUndefined();
  });

  it('a contact deleted in PenguinMails is unlinked and kept in the CRM; brought back, it links again, no duplicate', async () => {
    const t = setup();
    t.locals.add('back@example.com', { firstName: 'B' });
    await t.run();
    await t.locals.markDeleted('acme', t.locals.byEmail('back@example.com')!.id);

    const deletion = await t.run();
    expect(deletion.counts.to_crm.contacts.deleted).toBe(1);
    expect(t.crmContact('back@example.com')).toBeDefined();
    expect(t.log.messages()).toContain(
      'Contact unlinked: back@example.com was deleted in PenguinMails; kept in In-memory CRM',
    );
    expect(t.counting.calls.deleteRecords).toBe(0);

    t.locals.contacts.find((c) => c.email === 'back@example.com')!.deletedAt = null;
    t.locals.edit('back@example.com', { firstName: 'Back again' });
    await t.run();
    expect(t.crm.recordsByEmail('contacts', ['back@example.com'])).toHaveLength(1);
    expect(t.links.links.filter((l) => l.unlinkedAt === null)).toHaveLength(1);
    // Linking again starts a new history: a field that differs is a conflict under the policy (here the CRM's).
    expect(t.crmContact('back@example.com')?.fields.firstname).toBe('B');
    expect(t.locals.byEmail('back@example.com')?.values.firstName).toBe('B');
    expect(t.log.lines.find((line) => line.action === 'conflict_resolved')).toMatchObject({
      recordKey: 'back@example.com',
      message: 'Conflict resolved: first name field',
    });
  });

  it('keeps a recent CRM instant open (cursor without id) so a same-second edit to a lower id is read next time', async () => {
    const t = setup();
    t.crm.createRecord('contacts', { email: 'old@example.com' }, '2020-01-01T00:00:00.000Z');
    await t.run();
    const [state] = [...t.cursors.states.values()];
    // Long past: the instant is closed, and the id breaks ties inside it.
    expect(state.value).toEqual({
      modifiedAt: '2020-01-01T00:00:00.000Z',
      lastId: '1',
      readAt: expect.any(String),
    });

    const now = new Date().toISOString();
    t.crm.createRecord('contacts', { email: 'a@example.com' }, now);
    t.crm.createRecord('contacts', { email: 'b@example.com' }, now);
    await t.run();
    const [recent] = [...t.cursors.states.values()];
    expect(recent.value).toEqual({ modifiedAt: now, readAt: expect.any(String) });
  });

  it('deletes locally too when the connection propagates deletes', async () => {
    const t = setup({ propagateDeletes: true });
    t.locals.add('gone@example.com');
    await t.run();
    t.crm.deleteRecord('contacts', t.crmContact('gone@example.com')?.id as string);
    const run = await t.run();
    expect(t.locals.byEmail('gone@example.com')?.deletedAt).not.toBeNull();
    expect(run.counts.from_crm.contacts.deleted).toBe(1);
    expect(t.log.messages()).toContain('Contact deleted: gone@example.com ← In-memory CRM');
    // The local deletion that followed is not sent back to the CRM (the link already ended).
    expect(t.counting.calls.deleteRecords).toBe(0);
  });

  it('with propagateDeletes, contacts deleted in PenguinMails are deleted in the CRM in one call; a refused one stays linked and is retried', async () => {
    const t = setup({ propagateDeletes: true }, { maxWriteBatch: 2 });
    for (let i = 0; i < 4; i++) t.locals.add(`d${i}@example.com`);
    t.locals.add('kept@example.com');
    await t.run();
    const refusedId = t.crmContact('d3@example.com')?.id as string;
    t.associating.refuseDelete(refusedId, 'Contact is the primary contact of an open deal');
    for (let i = 0; i < 4; i++) await t.locals.markDeleted('acme', t.locals.byEmail(`d${i}@example.com`)!.id);
    t.counting.reset();

    const deletion = await t.run();

    expect(deletion.status).toBe('partial');
    expect(deletion.counts.to_crm.contacts).toMatchObject({ deleted: 3, errors: 1 });
    // Four records at a write batch of 2, still one call: the connector batches deletions at the CRM's limit.
    expect(t.counting.calls.deleteRecords).toBe(1);
    expect(t.crm.listRecords('contacts').map((record) => record.fields.email)).toEqual([
      'd3@example.com',
      'kept@example.com',
    ]);
    expect(t.log.messages()).toContain('Contact deleted: d0@example.com → In-memory CRM');
    expect(t.log.messages()).toContain(
      'Contact not deleted: d3@example.com → In-memory CRM: Contact is the primary contact of an open deal',
    );
    expect(t.retries.items).toHaveLength(1);

    t.associating.allowDelete(refusedId);
    const retried = await t.run();
    expect(retried.status).toBe('succeeded');
    expect(retried.counts.to_crm.contacts.deleted).toBe(1);
    expect(t.crm.listRecords('contacts').map((record) => record.fields.email)).toEqual(['kept@example.com']);
    expect(t.retries.items).toHaveLength(0);

    // The CRM reports the deletions back; the links are gone, so nothing more happens on either side.
    t.counting.reset();
    const settled = await t.run();
    expect(settled.counts.from_crm?.contacts.deleted ?? 0).toBe(0);
    expect(t.counting.calls.deleteRecords + t.counting.calls.upsertBatch).toBe(0);
    expect(t.locals.byEmail('kept@example.com')?.deletedAt).toBeNull();
  });

  it('a contact’s company follows its associated company, read with one getRecords call per page', async () => {
    const t = setup({}, { readPageSize: 3 });
    const acme = t.crm.createRecord('companies', { name: 'Acme Corp' });
    const globex = t.crm.createRecord('companies', { name: 'Globex' });
    const contact = (email: string, company?: string) =>
      t.crm.createRecord('contacts', { email, ...(company ? { company } : {}) }).id;
    t.associating.associate(contact('a1@example.com', 'Typed by hand'), [acme.id, globex.id]);
    t.associating.associate(contact('a2@example.com'), [acme.id]);
    const g1 = contact('g1@example.com');
    t.associating.associate(g1, [globex.id]);
    contact('own@example.com', 'Own Co');
    t.associating.associate(contact('ghost@example.com', 'Fallback Co'), ['404']);

    await t.run();

    const company = (email: string) => t.locals.byEmail(email)?.values.company;
    expect(['a1', 'a2', 'g1', 'own', 'ghost'].map((name) => company(`${name}@example.com`))).toEqual([
      'Acme Corp',
      'Acme Corp',
      'Globex',
      'Own Co',
      'Fallback Co',
    ]);
    // Five contacts in two pages of three: two company reads, not one per contact.
    expect(t.counting.calls.getRecords).toBe(2);
    // The association's name is not pushed into the contact's own company property.
    expect(t.counting.calls.upsertBatch).toBe(0);

    // Converged: the next run writes nothing to either side.
    t.counting.reset();
    const localBefore = structuredClone(t.locals.contacts);
    await t.run();
    expect(t.counting.calls.upsertBatch).toBe(0);
    expect(t.locals.contacts).toEqual(localBefore);

    // Moved to another company: the contact is read again and its company follows; nothing is written back.
    t.associating.associate(g1, [acme.id]);
    t.crm.updateRecord('contacts', g1, {});
    t.counting.reset();
    const moved = await t.run();
    expect(company('g1@example.com')).toBe('Acme Corp');
    expect(moved.counts.from_crm.contacts.updated).toBe(1);
    expect(t.counting.calls.upsertBatch).toBe(0);

    // A local edit is written to the contact's own company property, but the association stays what the
    // company is: the next read brings its name back, and both sides then settle.
    t.locals.edit('a2@example.com', { company: 'Local Co' });
    await t.run();
    expect(t.crmContact('a2@example.com')?.fields.company).toBe('Local Co');
    await t.run();
    expect(company('a2@example.com')).toBe('Acme Corp');
    t.counting.reset();
    await t.run();
    expect(t.counting.calls.upsertBatch).toBe(0);
    expect(company('a2@example.com')).toBe('Acme Corp');
  });

  it('one-way to the CRM ignores CRM edits; one-way from the CRM never writes to it', async () => {
    const toCrm = setup({ direction: 'to_crm' });
    toCrm.crm.createRecord('contacts', { email: 'crm-only@example.com' });
    toCrm.locals.add('x@example.com', { firstName: 'X' });
    await toCrm.run();
    expect(toCrm.locals.byEmail('crm-only@example.com')).toBeUndefined();
    expect(toCrm.counting.calls.readChanges).toBe(0);
    expect(toCrm.crmContact('x@example.com')?.fields.firstname).toBe('X');

    const fromCrm = setup({ direction: 'from_crm' });
    fromCrm.crm.createRecord('contacts', { email: 'crm-only@example.com', firstname: 'C' });
    fromCrm.locals.add('x@example.com', { firstName: 'X' });
    await fromCrm.run();
    fromCrm.locals.edit('crm-only@example.com', { firstName: 'Changed locally' });
    await fromCrm.run();
    expect(fromCrm.counting.calls.upsertBatch).toBe(0);
    expect(fromCrm.locals.byEmail('crm-only@example.com')?.values.firstName).toBe('Changed locally');
    expect(fromCrm.crmContact('crm-only@example.com')?.fields.firstname).toBe('C');
  });

  it('waits out a rate limit and an outage inside the run, and refreshes an expired token once', async () => {
    const t = setup();
    // After a first run has read one record, a new contact is looked up by e-mail before its create.
    t.crm.createRecord('contacts', { email: 'first@example.com' });
    await t.run();
    t.locals.add('r@example.com');
    t.counting.failNext(
      'readChanges',
      new CrmError(CrmErrorCode.RATE_LIMITED, 'slow down', { retryAfterMs: 10 }),
    );
    t.counting.failNext('upsertBatch', new CrmError(CrmErrorCode.CRM_UNAVAILABLE, '503'));
    t.counting.failNext('findByEmail', new CrmError(CrmErrorCode.AUTH_EXPIRED, 'expired'));

    const run = await t.run();

    expect(run.status).toBe('succeeded');
    expect(run.retriedCalls).toBe(3);
    expect(t.sessions.refreshes).toBe(1);
    expect(t.crmContact('r@example.com')).toBeDefined();
  });

  it('stops on an exhausted quota with nothing lost, and the next run finishes the work', async () => {
    const t = setup({}, { maxWriteBatch: 2 });
    for (let i = 0; i < 5; i++) t.locals.add(`q${i}@example.com`);
    t.crm.createRecord('contacts', { email: 'in@example.com' });
    t.counting.failNext(
      'upsertBatch',
      new CrmError(CrmErrorCode.QUOTA_EXHAUSTED, 'daily limit', { retryAfterMs: 3_600_000 }),
    );

    const stopped = await t.run();
    expect(stopped).toMatchObject({ status: 'failed', failure: 'quota', retryAfterMs: 3_600_000 });

    const resumed = await t.run();
    expect(resumed.status).toBe('succeeded');
    expect(t.crm.listRecords('contacts')).toHaveLength(6);
    expect(t.locals.contacts).toHaveLength(6);
  });

  it('a lost write response (the CRM applied it) does not create a duplicate on the rerun', async () => {
    const t = setup();
    t.locals.add('lost@example.com', { firstName: 'L' });
    t.counting.failNext('upsertBatch', new Error('socket hang up (a bug-shaped crash)'), { after: 'call' });

    const crashed = await t.run();
    expect(crashed.status).toBe('failed');
    expect(t.crm.listRecords('contacts')).toHaveLength(1);

    await t.run();
    expect(t.crm.listRecords('contacts')).toHaveLength(1);
    expect(t.links.links).toHaveLength(1);
  });

  it('asks the session provider once per run and nothing else when there is nothing to sync', async () => {
    const crm = new InMemoryCrm();
    const connector = new InMemoryConnector(crm);
    const real = inMemorySessions(crm, connector);
    const sessions = autoMock<SessionProvider>('SessionProvider');
    sessions.getSession.mockImplementation(real.getSession);
    const runner = new ContactSyncRunner({
      port: connector,
      sessions,
      links: new InMemoryLinkStore(),
      cursors: new InMemoryCursorStore(),
      locals: new InMemoryLocalContacts(),
      retries: new InMemoryRetryStore(),
      log: new MemorySyncLog(),
      mappings: inMemoryMappings,
    });
    const outcome = await runner.run({ connection: aConnection(), runId: 'r1' });
    expect(outcome.status).toBe('succeeded');
    expect(sessions.getSession).toHaveBeenCalledTimes(1);
  });

  it('on an already converged record it only reads: no write method of any port or store is even stubbed', async () => {
    const connection = aConnection();
    const contact = aLocalContact({ email: 'same@example.com', values: { firstName: 'Same' } });
    const record = {
      id: '42',
      object: 'contacts',
      modifiedAt: '2026-02-01T00:00:00.000Z',
      fields: { email: 'same@example.com', firstname: 'Same' },
    };
    const at = '2026-01-15T00:00:00.000Z';
    const link = {
      id: 'link-1',
      localObject: 'contact',
      localId: contact.id,
      crmObject: 'contacts',
      crmId: '42',
      synced: {
        email: { value: 'same@example.com', side: 'penguinmails' as const, at, rule: 'initial' as const },
        firstName: { value: 'Same', side: 'penguinmails' as const, at, rule: 'initial' as const },
      },
      localUpdatedAt: contact.updatedAt,
      crmModifiedAt: new Date(record.modifiedAt),
      lastSyncedAt: new Date(at),
    };
    const port = autoMock<IntegrationPort>('IntegrationPort');
    port.capabilities.mockReturnValue(new InMemoryConnector(new InMemoryCrm()).capabilities());
    port.readChanges.mockResolvedValue({ records: [record], deleted: [] });
    const sessions = autoMock<SessionProvider>('SessionProvider');
    sessions.getSession.mockResolvedValue({ connectionId: connection.id, accessToken: 'token' });
    const links = autoMock<LinkStore>('LinkStore');
    links.findByCrmIds.mockResolvedValue([link]);
    links.findByLocalIds.mockImplementation(async (_id, localIds) =>
      localIds.includes(contact.id) ? [link] : [],
    );
    const cursors = autoMock<CursorStore>('CursorStore');
    cursors.load.mockResolvedValue({ value: null, initialSyncCompletedAt: new Date(at) });
    cursors.save.mockResolvedValue();
    const locals = autoMock<LocalContactStore>('LocalContactStore');
    locals.findByIds.mockResolvedValue([contact]);
    locals.findByEmails.mockResolvedValue([]);
    locals.changedSince.mockResolvedValue([contact]);
    const retries = autoMock<RetryStore>('RetryStore');
    retries.list.mockResolvedValue([]);
    const log = autoMock<SyncLogSink>('SyncLogSink');

    const outcome = await new ContactSyncRunner({
      port,
      sessions,
      links,
      cursors,
      locals,
      retries,
      log,
      mappings: inMemoryMappings,
    }).run({ connection, runId: 'run-1' });

    expect(outcome.status).toBe('succeeded');
    expect(outcome.counts).toEqual({
      from_crm: { contacts: { created: 0, updated: 0, skipped: 1, conflicts: 0, errors: 0, deleted: 0 } },
      to_crm: { contacts: { created: 0, updated: 0, skipped: 1, conflicts: 0, errors: 0, deleted: 0 } },
    });
    // Only the cursors move.
    expect(cursors.save).toHaveBeenCalledTimes(2);
  });
});
