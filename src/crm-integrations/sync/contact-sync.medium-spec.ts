import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import {
  Contact,
  RecordLink,
  SyncLogEntry,
  SyncRetryItem,
  SyncRun,
  type ConnectionSettings,
} from '@pm/domain';
import { CrmError, CrmErrorCode } from '@pm/integration-port';
import { InMemoryConnector, InMemoryCrm, IN_MEMORY_PROVIDER } from '@pm/integration-port/testing';
import {
  ContactSyncRunner,
  decodeCrmRecord,
  type LocalValues,
  type StandardContactField,
  type SyncConnection,
} from '@pm/sync-engine';
import {
  AssociatingPort,
  CountingPort,
  IN_MEMORY_CONTACTS_MAPPING,
  inMemoryMappings,
  inMemorySessions,
} from '@pm/sync-engine/testing';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import type { AuthContext } from '../auth/auth-context';
import { ContactService } from '../contacts/contact.service';
import { CRM_ORM } from '../database/crm-database';
import { toSyncConnection } from './sync-executor';
import {
  RecordLinkRepository,
  SyncCursorRepository,
  SyncLogRepository,
  SyncRetryRepository,
} from '../repositories';
import { LocalContactStoreAdapter } from './local-contact-store';
import { inRequest, seedConnection, startSyncTestApp } from './testing/sync-test-app';

const auth: AuthContext = { actor: 'test', tenantId: null };
const FIELDS = IN_MEMORY_CONTACTS_MAPPING.fields.map((entry) => entry.local as StandardContactField);

describe('contact sync on PostgreSQL (MikroORM stores, in-memory CRM)', () => {
  let database: TestDatabase;
  let app: INestApplication;
  let orm: MikroORM;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await startSyncTestApp({
      databaseUrl: database.url,
      connectors: {},
      sessions: {
        getSession: () => Promise.reject(new Error('unused')),
        refreshSession: () => Promise.reject(new Error('unused')),
      },
    });
    orm = app.get(CRM_ORM);
  });

  afterAll(async () => {
    await app.close();
    await database.drop();
  });

  /** A fresh tenant, CRM and connection; the CRM's clock runs ahead by a second per write. */
  async function setup(settings: Partial<ConnectionSettings> = {}, maxWriteBatch = 3) {
    let crmClock = Date.now();
    const crm = new InMemoryCrm({ now: () => new Date((crmClock += 1_000)) });
    const connector = new InMemoryConnector(crm, { maxWriteBatch });
    const associating = new AssociatingPort(connector);
    const counting = new CountingPort(associating.port);
    const sessions = inMemorySessions(crm, connector);
    const tenantId = `t-${randomUUID().slice(0, 8)}`;
    const entity = await seedConnection(app, { tenantId, provider: IN_MEMORY_PROVIDER, settings });
    const connection: SyncConnection = toSyncConnection(entity);
    const contacts = app.get(ContactService);
    const runner = (readPageSize?: number) =>
      new ContactSyncRunner({
        port: counting.port,
        sessions,
        links: app.get(RecordLinkRepository),
        cursors: app.get(SyncCursorRepository),
        locals: app.get(LocalContactStoreAdapter),
        retries: app.get(SyncRetryRepository),
        log: app.get(SyncLogRepository),
        mappings: inMemoryMappings,
        options: { sleep: async () => undefined, readPageSize },
      });
    const run = async (options: { signal?: AbortSignal; readPageSize?: number } = {}) => {
      const em = orm.em.fork();
      const row = em.create(SyncRun, { tenant: tenantId, connection: connection.id, trigger: 'manual' });
      await em.flush();
      return runner(options.readPageSize).run({ connection, runId: row.id, signal: options.signal });
    };
    const upsertLocal = (email: string, values: Omit<LocalValues, 'email'>) =>
      inRequest(app, () => contacts.upsert(auth, tenantId, { email, ...values }));
    const localContacts = async () =>
      orm.em.fork().find(Contact, { tenant: tenantId, deletedAt: null }, { orderBy: { email: 'asc' } });
    /** Every mapped field of every contact, per e-mail, on each side. */
    const sides = async () => {
      const local = Object.fromEntries(
        (await localContacts()).map((c) => [
          c.email,
          Object.fromEntries(FIELDS.map((f) => [f, c[f] ?? null])),
        ]),
      );
      const remote = Object.fromEntries(
        crm.listRecords('contacts').map((record) => {
          const values = decodeCrmRecord(IN_MEMORY_CONTACTS_MAPPING, record.fields);
          return [values.email, Object.fromEntries(FIELDS.map((f) => [f, values[f] ?? null]))];
        }),
      );
      return { local, remote };
    };
    const crmByEmail = (email: string) => crm.recordsByEmail('contacts', [email]);
    const removeLocal = async (email: string) => {
      const contact = await orm.em.fork().findOneOrFail(Contact, { tenant: tenantId, email });
      await inRequest(app, () => contacts.remove(auth, tenantId, contact.id));
    };
    return {
      crm,
      associating,
      counting,
      tenantId,
      connection,
      run,
      upsertLocal,
      removeLocal,
      localContacts,
      sides,
      crmByEmail,
    };
  }

  it('initial sync both ways, then incremental changes both ways, converge; a further run writes nothing', async () => {
    const t = await setup();
    for (let i = 0; i < 6; i++)
      t.crm.createRecord('contacts', { email: `crm${i}@example.com`, firstname: `C${i}` });
    t.crm.createRecord('contacts', { email: 'both@example.com', firstname: 'Both', phone: '+1 111' });
    for (let i = 0; i < 5; i++) await t.upsertLocal(`local${i}@example.com`, { lastName: `L${i}` });
    await t.upsertLocal('both@example.com', { company: 'Shared Co' });

    const first = await t.run();
    expect(first.status).toBe('succeeded');
    let { local, remote } = await t.sides();
    expect(Object.keys(local)).toHaveLength(12);
    expect(local).toEqual(remote);
    expect(local['both@example.com']).toMatchObject({
      firstName: 'Both',
      phone: '+1 111',
      company: 'Shared Co',
    });
    expect(t.crmByEmail('both@example.com')).toHaveLength(1);

    // Incremental: edits, creations on both sides.
    const crm2 = t.crmByEmail('crm2@example.com')[0];
    t.crm.updateRecord('contacts', crm2.id, { company: 'From CRM' });
    t.crm.createRecord('contacts', { email: 'newcrm@example.com', lastname: 'New' });
    await t.upsertLocal('local3@example.com', { firstName: 'Edited locally' });
    await t.upsertLocal('newlocal@example.com', { firstName: 'Fresh' });
    t.counting.reset();
    const second = await t.run();
    expect(second.status).toBe('succeeded');
    ({ local, remote } = await t.sides());
    expect(Object.keys(local)).toHaveLength(14);
    expect(local).toEqual(remote);
    expect(local['crm2@example.com'].company).toBe('From CRM');
    expect(remote['local3@example.com'].firstName).toBe('Edited locally');

    // Converged: the next run writes nothing to either side.
    const before = (await t.localContacts()).map((c) => [c.email, c.updatedAt.toISOString()]);
    const crmBefore = JSON.stringify(t.crm.listRecords('contacts'));
    t.counting.reset();
    const third = await t.run();
    expect(third.status).toBe('succeeded');
    expect(t.counting.calls.upsertBatch).toBe(0);
    expect(t.counting.calls.findByEmail).toBe(0);
    expect(JSON.stringify(t.crm.listRecords('contacts'))).toBe(crmBefore);
    expect((await t.localContacts()).map((c) => [c.email, c.updatedAt.toISOString()])).toEqual(before);

    const lines = await orm.em.fork().find(SyncLogEntry, { connection: t.connection.id });
    expect(lines.map((l) => l.message)).toEqual(
      expect.arrayContaining([
        'Contact synced: local0@example.com → In-memory CRM',
        'Contact synced: crm0@example.com ← In-memory CRM',
      ]),
    );
  });

  it.each([
    ['crm_wins', 'local-first', 'CRM Co'],
    ['penguinmails_wins', 'local-first', 'Local Co'],
    ['most_recent', 'local-first', 'CRM Co'],
    ['most_recent', 'crm-first', 'Local Co'],
  ] as const)(
    '%s with both sides edited (%s) keeps %s on both sides and logs it',
    async (policy, order, winner) => {
      const t = await setup({ conflictPolicy: policy });
      await t.upsertLocal('c@example.com', { company: 'Base Co', firstName: 'Cee' });
      await t.run();
      const crmId = t.crmByEmail('c@example.com')[0].id;
      if (order === 'local-first') {
        await t.upsertLocal('c@example.com', { company: 'Local Co' });
        t.crm.updateRecord(
          'contacts',
          crmId,
          { company: 'CRM Co' },
          new Date(Date.now() + 60_000).toISOString(),
        );
      } else {
        t.crm.updateRecord(
          'contacts',
          crmId,
          { company: 'CRM Co' },
          new Date(Date.now() - 60_000).toISOString(),
        );
        await t.upsertLocal('c@example.com', { company: 'Local Co' });
      }

      const run = await t.run();

      const { local, remote } = await t.sides();
      expect(local['c@example.com'].company).toBe(winner);
      expect(remote['c@example.com'].company).toBe(winner);
      expect(run.counts.from_crm.contacts.conflicts).toBe(1);
      const em = orm.em.fork();
      const line = await em.findOneOrFail(SyncLogEntry, {
        connection: t.connection.id,
        action: 'conflict_resolved',
      });
      expect(line.message).toBe('Conflict resolved: company field');
      expect(line.details).toMatchObject({
        penguinmailsValue: 'Local Co',
        crmValue: 'CRM Co',
        value: winner,
      });
      const link = await em.findOneOrFail(RecordLink, { connection: t.connection.id, crmId });
      expect(link.synced.company).toMatchObject({
        value: winner,
        side: winner === 'CRM Co' ? 'crm' : 'penguinmails',
        rule: policy,
      });
      // The untouched field kept its provenance from the first sync.
      expect(link.synced.firstName).toMatchObject({ value: 'Cee', side: 'penguinmails', rule: 'initial' });

      t.counting.reset();
      await t.run();
      expect(t.counting.calls.upsertBatch).toBe(0);
    },
  );

  it('a record the CRM rejects is logged with its message, the rest sync, and it is retried next run', async () => {
    const t = await setup();
    await t.upsertLocal('ok1@example.com', { firstName: 'One' });
    await t.upsertLocal('bad@example.com', { lifecycleStage: 'martian' });
    await t.upsertLocal('ok2@example.com', { firstName: 'Two' });

    const first = await t.run();
    expect(first.status).toBe('partial');
    expect(first.counts.to_crm.contacts).toMatchObject({ created: 2, errors: 1 });
    expect(t.crm.listRecords('contacts')).toHaveLength(2);
    const em = orm.em.fork();
    const error = await em.findOneOrFail(SyncLogEntry, { connection: t.connection.id, action: 'error' });
    expect(error.message).toBe(
      'Contact not synced: bad@example.com → In-memory CRM: martian is not a valid lifecycle stage',
    );
    expect(await em.count(SyncRetryItem, { connection: t.connection.id })).toBe(1);

    // Fixed in PenguinMails long after the cursor passed it: the retry list still brings it back.
    await t.upsertLocal('bad@example.com', { lifecycleStage: 'lead' });
    const second = await t.run();
    expect(second.status).toBe('succeeded');
    expect(t.crmByEmail('bad@example.com')[0].fields.lifecyclestage).toBe('lead');
    expect(await orm.em.fork().count(SyncRetryItem, { connection: t.connection.id })).toBe(0);
  });

  it('with propagateDeletes, a deletion on either side deletes the other; a refused CRM deletion is retried from the retry table', async () => {
    const t = await setup({ propagateDeletes: true });
    for (const name of ['keep', 'local-gone', 'refused', 'crm-gone'])
      await t.upsertLocal(`${name}@example.com`, { firstName: name });
    await t.run();
    const [keepId, localGoneId, refusedId, crmGoneId] = ['keep', 'local-gone', 'refused', 'crm-gone'].map(
      (name) => t.crmByEmail(`${name}@example.com`)[0].id,
    );
    t.associating.refuseDelete(refusedId, 'This contact is locked by a workflow');
    await t.removeLocal('local-gone@example.com');
    await t.removeLocal('refused@example.com');
    t.crm.deleteRecord('contacts', crmGoneId);
    t.counting.reset();

    const run = await t.run();

    expect(run.status).toBe('partial');
    expect(run.counts.to_crm.contacts).toMatchObject({ deleted: 1, errors: 1 });
    expect(run.counts.from_crm.contacts.deleted).toBe(1);
    expect(t.counting.calls.deleteRecords).toBe(1);
    expect(t.crm.listRecords('contacts').map((record) => record.fields.email)).toEqual([
      'keep@example.com',
      'refused@example.com',
    ]);
    expect((await t.localContacts()).map((contact) => contact.email)).toEqual(['keep@example.com']);
    const em = orm.em.fork();
    const messages = (await em.find(SyncLogEntry, { connection: t.connection.id })).map((l) => l.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        'Contact deleted: local-gone@example.com → In-memory CRM',
        'Contact deleted: crm-gone@example.com ← In-memory CRM',
        'Contact not deleted: refused@example.com → In-memory CRM: This contact is locked by a workflow',
      ]),
    );
    const links = await em.find(RecordLink, { connection: t.connection.id });
    expect(Object.fromEntries(links.map((link) => [link.crmId, link.unlinkReason ?? 'linked']))).toEqual({
      [keepId]: 'linked',
      [refusedId]: 'linked',
      [localGoneId]: 'deleted_in_penguinmails',
      [crmGoneId]: 'deleted_in_crm',
    });
    expect(await em.count(SyncRetryItem, { connection: t.connection.id })).toBe(1);

    t.associating.allowDelete(refusedId);
    const retried = await t.run();
    expect(retried.status).toBe('succeeded');
    expect(retried.counts.to_crm.contacts.deleted).toBe(1);
    expect(t.crm.listRecords('contacts').map((record) => record.fields.email)).toEqual(['keep@example.com']);
    expect(await orm.em.fork().count(SyncRetryItem, { connection: t.connection.id })).toBe(0);
  });

  it('a contact’s company follows its associated company record on PostgreSQL too', async () => {
    const t = await setup();
    const company = t.crm.createRecord('companies', { name: 'Acme Corp' });
    const contactId = t.crm.createRecord('contacts', { email: 'assoc@example.com', company: 'Typed' }).id;
    t.associating.associate(contactId, [company.id]);
    t.crm.createRecord('contacts', { email: 'plain@example.com', company: 'Plain Co' });

    await t.run();

    const companies = Object.fromEntries((await t.localContacts()).map((c) => [c.email, c.company]));
    expect(companies).toEqual({ 'assoc@example.com': 'Acme Corp', 'plain@example.com': 'Plain Co' });
    expect(t.counting.calls.getRecords).toBe(1);
    const link = await orm.em
      .fork()
      .findOneOrFail(RecordLink, { connection: t.connection.id, crmId: contactId });
    expect(link.synced.company).toMatchObject({ value: 'Acme Corp', side: 'crm' });
  });

  it('a run that failed before writing anything is caught up by the next run', async () => {
    const t = await setup();
    await t.upsertLocal('later@example.com', { firstName: 'Later' });
    t.counting.failNext('upsertBatch', new Error('unexpected bug in a batch'), { after: 'none' });
    const crashed = await t.run();
    expect(crashed.status).toBe('failed');
    const retried = await t.run();
    expect(retried.status).toBe('succeeded');
    expect(t.crmByEmail('later@example.com')).toHaveLength(1);
  });

  it('survives a run stopped mid-way (lost write response, then an abort between pages): no duplicate, no lost update', async () => {
    const t = await setup({}, 3);
    for (let i = 0; i < 20; i++)
      t.crm.createRecord('contacts', { email: `in${i}@example.com`, firstname: `In${i}` });
    for (let i = 0; i < 20; i++) await t.upsertLocal(`out${i}@example.com`, { lastName: `Out${i}` });

    // Crash 1: a write reaches the CRM but its answer is lost and the worker dies.
    t.counting.failNext('upsertBatch', new Error('worker killed'), { after: 'call' });
    const runs = [] as Awaited<ReturnType<typeof t.run>>[];
    runs.push(await t.run({ readPageSize: 5 }));
    expect(runs[0].status).toBe('failed');

    // Edits on both sides while the worker is down.
    const in3 = t.crmByEmail('in3@example.com')[0];
    t.crm.updateRecord('contacts', in3.id, { phone: '+44 333' });
    await t.upsertLocal('out7@example.com', { firstName: 'Seven' });

    // Crash 2: stopped after two inbound pages (the page in flight is finished, its cursor saved).
    const controller = new AbortController();
    let pages = 0;
    const original = t.counting.port.readChanges.bind(t.counting.port) as typeof t.counting.port.readChanges;
    t.counting.port.readChanges = async (...args) => {
      const page = await original(...args);
      if (++pages === 2) controller.abort(new Error('worker stopping'));
      return page;
    };
    runs.push(await t.run({ readPageSize: 5, signal: controller.signal }));
    expect(runs[1].status).toBe('cancelled');
    t.counting.port.readChanges = original;

    // Restarted: finishes, with every record once on each side and every edit kept.
    runs.push(await t.run({ readPageSize: 5 }));
    expect(runs[2].status).toBe('succeeded');
    const { local, remote } = await t.sides();
    expect(Object.keys(remote).sort()).toEqual(Object.keys(local).sort());
    expect(Object.keys(local)).toHaveLength(40);
    expect(t.crm.listRecords('contacts')).toHaveLength(40);
    expect(local).toEqual(remote);
    expect(local['in3@example.com'].phone).toBe('+44 333');
    expect(remote['out7@example.com'].firstName).toBe('Seven');
    for (let i = 0; i < 20; i++) {
      expect(local[`in${i}@example.com`].firstName).toBe(`In${i}`);
      expect(remote[`out${i}@example.com`].lastName).toBe(`Out${i}`);
    }
    const links = await orm.em.fork().find(RecordLink, { connection: t.connection.id, unlinkedAt: null });
    expect(links).toHaveLength(40);
    expect(new Set(links.map((l) => l.localId)).size).toBe(40);
  });

  it('random edits on both sides with injected faults and restarts converge on PostgreSQL too (seed printed)', async () => {
    const seed = Number(process.env.SYNC_SEED ?? 7);
    let state = seed;
    const random = () => {
      // mulberry32: replay a failure with SYNC_SEED=<seed>.
      state = (state + 0x6d2b79f5) >>> 0;
      let x = Math.imul(state ^ (state >>> 15), state | 1);
      x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const t = await setup({ conflictPolicy: 'most_recent' }, 4);
    const emails = Array.from({ length: 15 }, (_, i) => `r${i}@example.com`);
    const companies = ['Acme', 'Initech', 'Globex', null];
    const names = ['Ann', 'Bob', 'Cy', null];
    for (let step = 0; step < 150; step++) {
      const roll = random();
      const crmRecords = t.crm.listRecords('contacts');
      if (roll < 0.35) {
        await t.upsertLocal(
          pick(emails),
          random() < 0.5 ? { company: pick(companies) } : { firstName: pick(names) },
        );
      } else if (roll < 0.7 && crmRecords.length > 0) {
        t.crm.updateRecord(
          'contacts',
          pick(crmRecords).id,
          random() < 0.5 ? { company: pick(companies) } : { firstname: pick(names) },
        );
      } else if (roll < 0.78) {
        const email = pick(emails);
        if (t.crmByEmail(email).length === 0) t.crm.createRecord('contacts', { email, lastname: 'FromCrm' });
      } else if (roll < 0.88) {
        const faults = [
          new CrmError(CrmErrorCode.RATE_LIMITED, 'Too many requests', { retryAfterMs: 1 }),
          new CrmError(CrmErrorCode.CRM_UNAVAILABLE, 'Service Unavailable'),
          new Error('worker killed'),
        ];
        t.counting.failNext(pick(['readChanges', 'upsertBatch', 'findByEmail'] as const), pick(faults), {
          after: random() < 0.5 ? 'none' : 'call',
        });
      } else {
        await t.run({ readPageSize: 3 });
      }
    }
    t.counting.clearFaults();
    await t.run({ readPageSize: 3 });
    await t.run({ readPageSize: 3 });
    t.counting.reset();
    const last = await t.run({ readPageSize: 3 });
    const context = `(replay: SYNC_SEED=${seed})`;
    expect({ status: last.status, writes: t.counting.calls.upsertBatch, context }).toEqual({
      status: 'succeeded',
      writes: 0,
      context,
    });
    const { local, remote } = await t.sides();
    expect({ local, context }).toEqual({ local: remote, context });
    expect(t.crm.listRecords('contacts')).toHaveLength(Object.keys(remote).length);
  });
});
