import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import request from 'supertest';
import { Contact, RecordLink, SyncRun } from '@pm/domain';
import type { CrmSession } from '@pm/integration-port';
import { startHubSpotTestBed, type HubSpotTestBed } from '@pm/connectors/hubspot/testing';
import { pipedriveContractFixture } from '@pm/connectors/pipedrive/testing';
import type { ContractFixture } from '@pm/integration-port/testing';
import { SandboxControlClient } from '@pm/sandboxes';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { ContactService } from '../contacts/contact.service';
import { CRM_ORM } from '../database/crm-database';
import { SyncExecutor } from '../sync/sync-executor';
import { SyncQueue } from '../sync/sync-queue';
import { CONTACT_SYNC_QUEUE, type ContactSyncJob } from '../sync/sync.tokens';
import { inRequest, seedConnection, startSyncTestApp } from '../sync/testing/sync-test-app';

const TOKEN = 'pmcrm_reconcile_e2e_platform_token_0123456789';
const TENANT = 'reconcile-e2e';
/** The sandbox's clock, frozen: every CRM write is stamped where the test says. */
const T0 = Date.parse('2026-03-01T10:00:00.000Z');

/**
 * The reconcile through the HTTP API and the worker's executor, with the real HubSpot connector (the official SDK
 * over HTTP) against its sandbox, on PostgreSQL: the story of 67 contacts against 60 after records vanished
 * from the CRM behind the service's back, and an edit no change read brings.
 */
describe('reconcile against the HubSpot sandbox', () => {
  let database: TestDatabase;
  let bed: HubSpotTestBed;
  let app: INestApplication;
  let session: CrmSession;
  let connectionId: string;
  let control: SandboxControlClient;

  const api = () => request(app.getHttpServer());
  const auth = (call: request.Test) => call.set('Authorization', `Bearer ${TOKEN}`);
  const base = () => `/api/v1/tenants/${TENANT}/connections/${connectionId}`;

  /** Queues through the API (202), then takes the job off the queue and runs it as a worker would: no polling. */
  async function runThroughApi(path: 'sync' | 'reconcile') {
    const queued = await auth(api().post(`${base()}/${path}`)).expect(202);
    const run = (queued.body as { queued: boolean; run: { id: string } }).run;
    expect((queued.body as { queued: boolean }).queued).toBe(true);
    const boss = await app.get(SyncQueue).start();
    const [job] = await boss.fetch<ContactSyncJob>(CONTACT_SYNC_QUEUE);
    expect(job?.data.runId).toBe(run.id);
    await app.get(SyncExecutor).execute(job.data);
    await boss.complete(CONTACT_SYNC_QUEUE, job.id);
    const runs = await auth(
      api().get(`${base()}/${path === 'sync' ? 'sync-runs' : 'reconcile-runs'}`),
    ).expect(200);
    const done = (runs.body as { id: string; status: string }[]).find((candidate) => candidate.id === run.id);
    expect(done?.status).toBe('succeeded');
    return done as unknown as {
      counts: Record<string, Record<string, Record<string, number>>>;
      drift?: Record<string, Record<string, number>>;
    };
  }

  const activeLinks = () =>
    app.get<MikroORM>(CRM_ORM).em.fork().count(RecordLink, { connection: connectionId, unlinkedAt: null });
  const liveContacts = () =>
    app.get<MikroORM>(CRM_ORM).em.fork().count(Contact, { tenant: TENANT, deletedAt: null });

  beforeAll(async () => {
    database = await createTestDatabase();
    bed = await startHubSpotTestBed();
    session = await bed.session();
    control = new SandboxControlClient(bed.baseUrl);
    await control.setClock({ set: T0, freeze: true });
    app = await startSyncTestApp({
      databaseUrl: database.url,
      connectors: { hubspot: bed.connector },
      sessions: { getSession: async () => session, refreshSession: async () => session },
      platformServiceToken: TOKEN,
    });
    connectionId = (await seedConnection(app, { tenantId: TENANT, provider: 'hubspot' })).id;
  });

  afterAll(async () => {
    await app?.close();
    await bed?.close();
    await database?.drop();
  });

  it("finds the 7 records deleted behind the service's back: 67 against 60 in the API, the log and the run counts", async () => {
    const crmBefore = bed.sandbox.portal.store('contacts').size;
    const contacts = app.get(ContactService);
    for (let i = 0; i < 67; i++) {
      await inRequest(app, () =>
        contacts.upsert({ actor: 'test', tenantId: null }, TENANT, {
          email: `drift${i}@example.com`,
          firstName: `Drift${i}`,
        }),
      );
    }
    await runThroughApi('sync');
    // One record touched ten minutes on, and a second sync: the cursor is past every record.
    await control.setClock({ set: T0 + 600_000, freeze: true });
    const touched = bed.sandbox.portal.store('contacts').all().at(-1);
    bed.sandbox.portal.update('contacts', touched?.id as string, {}, 'CRM_UI');
    await runThroughApi('sync');
    expect(bed.sandbox.portal.store('contacts').size).toBe(crmBefore + 67);
    expect(await activeLinks()).toBe(67 + crmBefore);

    const linked = await app
      .get<MikroORM>(CRM_ORM)
      .em.fork()
      .find(
        RecordLink,
        { connection: connectionId, unlinkedAt: null },
        { orderBy: { crmId: 'asc' }, limit: 7 },
      );
    const purged = await control.purge({ object: 'contacts', ids: linked.map((link) => link.crmId) });
    expect(purged.purged).toHaveLength(7);

    // An ordinary sync has nothing to read: no deletion is reported anywhere.
    const blind = await runThroughApi('sync');
    expect(blind.counts.from_crm?.contacts?.deleted ?? 0).toBe(0);
    expect(await activeLinks()).toBe(67 + crmBefore);

    const reconcile = await runThroughApi('reconcile');
    const total = 67 + crmBefore;
    expect(reconcile.drift?.contacts).toEqual({
      crmRecords: total - 7,
      localContacts: total,
      missingInCrm: 7,
      changedInCrm: 0,
      notInCrm: 0,
      changedLocally: 0,
      notInPenguinMails: 0,
    });
    expect(reconcile.counts.from_crm.contacts.deleted).toBe(7);
    const log = await auth(api().get(`${base()}/sync-log?action=drift_found`)).expect(200);
    expect(JSON.stringify(log.body)).toContain(
      `Reconcile: 7 records missing in HubSpot — PenguinMails holds ${total} contacts and HubSpot ${total - 7}`,
    );
    // Repaired by the rules (propagateDeletes off): the links end, the contacts stay, none is created again.
    expect(await activeLinks()).toBe(total - 7);
    expect(await liveContacts()).toBe(total);
    await runThroughApi('sync');
    expect(bed.sandbox.portal.store('contacts').size).toBe(total - 7);
    const again = await runThroughApi('reconcile');
    expect(again.drift?.contacts.missingInCrm).toBe(0);
  });

  it('finds an edit made in HubSpot that no change read brings, and applies it', async () => {
    const orm = app.get<MikroORM>(CRM_ORM);
    const contact = await orm.em
      .fork()
      .findOneOrFail(Contact, { tenant: TENANT, email: 'drift40@example.com' });
    const link = await orm.em
      .fork()
      .findOneOrFail(RecordLink, { connection: connectionId, localId: contact.id, unlinkedAt: null });
    // Stamped a second after the link's snapshot, long before the cursor: as a search index that lagged would.
    bed.sandbox.portal.update(
      'contacts',
      link.crmId,
      { firstname: 'EditedInHubSpot' },
      'CRM_UI',
      new Date(T0 + 1_000),
    );

    await runThroughApi('sync');
    expect((await orm.em.fork().findOneOrFail(Contact, { id: contact.id })).firstName).toBe('Drift40');

    const reconcile = await runThroughApi('reconcile');
    expect(reconcile.drift?.contacts.changedInCrm).toBe(1);
    expect(reconcile.counts.from_crm.contacts.updated).toBe(1);
    expect((await orm.em.fork().findOneOrFail(Contact, { id: contact.id })).firstName).toBe(
      'EditedInHubSpot',
    );
  });
});

/**
 * Pipedrive's change read reports no deletions at all (API v2 lists only live records): a person deleted in
 * Pipedrive is found by the reconcile alone, and with propagateDeletes its contact goes too.
 */
describe('reconcile against the Pipedrive sandbox', () => {
  const tenant = 'reconcile-e2e-pipedrive';
  let database: TestDatabase;
  let fixture: ContractFixture;
  let app: INestApplication;
  let connectionId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    fixture = await pipedriveContractFixture();
    const session = await fixture.session();
    app = await startSyncTestApp({
      databaseUrl: database.url,
      connectors: { pipedrive: fixture.port },
      sessions: { getSession: async () => session, refreshSession: async () => session },
      platformServiceToken: TOKEN,
    });
    connectionId = (
      await seedConnection(app, {
        tenantId: tenant,
        provider: 'pipedrive',
        settings: { objects: ['persons'], propagateDeletes: true },
      })
    ).id;
  });

  afterAll(async () => {
    await app?.close();
    await fixture?.close?.();
    await database?.drop();
  });

  /** Runs one queued job of the connection as a worker would. */
  async function runQueued(path: 'sync' | 'reconcile') {
    const queued = await request(app.getHttpServer())
      .post(`/api/v1/tenants/${tenant}/connections/${connectionId}/${path}`)
      .set('Authorization', `Bearer ${TOKEN}`)
      .expect(202);
    const boss = await app.get(SyncQueue).start();
    const [job] = await boss.fetch<ContactSyncJob>(CONTACT_SYNC_QUEUE);
    expect(job?.data.runId).toBe((queued.body as { run: { id: string } }).run.id);
    await app.get(SyncExecutor).execute(job.data);
    await boss.complete(CONTACT_SYNC_QUEUE, job.id);
    const em = app.get<MikroORM>(CRM_ORM).em.fork();
    return em.findOneOrFail(SyncRun, { id: job.data.runId });
  }

  it('finds persons deleted in Pipedrive and deletes their contacts by the rules', async () => {
    const contacts = app.get(ContactService);
    for (let i = 0; i < 12; i++) {
      await inRequest(app, () =>
        contacts.upsert({ actor: 'test', tenantId: null }, tenant, {
          email: `pd${i}@example.com`,
          firstName: `Pd${i}`,
        }),
      );
    }
    await runQueued('sync');
    const orm = app.get<MikroORM>(CRM_ORM);
    const links = await orm.em
      .fork()
      .find(RecordLink, { connection: connectionId, unlinkedAt: null }, { limit: 3 });
    for (const link of links) await fixture.staging.deleteContact(link.crmId);

    const sync = await runQueued('sync');
    expect(sync.counts.from_crm?.persons?.deleted ?? 0).toBe(0);

    const reconcile = await runQueued('reconcile');
    expect(reconcile.status).toBe('succeeded');
    const live = (await fixture.port.listIds(await fixture.session(), { object: 'persons' })).ids.length;
    expect(reconcile.drift?.persons).toMatchObject({
      missingInCrm: 3,
      localContacts: live + 3,
      crmRecords: live,
    });
    expect(reconcile.counts.from_crm.persons.deleted).toBe(3);
    expect(await orm.em.fork().count(Contact, { tenant, deletedAt: null })).toBe(live);
  });
});
