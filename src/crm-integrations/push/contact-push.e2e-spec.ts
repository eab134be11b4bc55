import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import request from 'supertest';
import { RecordLink, SyncRun, type ConnectionSettings } from '@pm/domain';
import type { CrmSession } from '@pm/integration-port';
import { startHubSpotTestBed, type HubSpotTestBed } from '@pm/connectors/hubspot/testing';
import { SandboxControlClient } from '@pm/sandboxes';
import { ContactSyncRunner } from '@pm/sync-engine';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { CRM_ORM } from '../database/crm-database';
import {
  RecordLinkRepository,
  SyncCursorRepository,
  SyncLogRepository,
  SyncRetryRepository,
} from '../repositories';
import { LocalContactStoreAdapter } from '../sync/local-contact-store';
import { toSyncConnection } from '../sync/sync-executor';
import { seedConnection, startSyncTestApp } from '../sync/testing/sync-test-app';
import { ContactPushExecutor } from './contact-push.executor';
import { ContactPushQueue } from './contact-push.queue';

const TOKEN = 'pmcrm_push_e2e_platform_token_0123456789abcdef';
const TENANT = 'push-e2e';
const HUBSPOT_BATCH = 100;

/**
 * The immediate push through the contacts API, the push queue and the real HubSpot connector against its sandbox:
 * API edits reach the CRM in batches per connection when the job runs (triggered here, no debounce wait), an edit
 * repeated while its push waits adds nothing, and the CRM change read that follows writes nothing back (no echo).
 */
describe('immediate push to the HubSpot sandbox', () => {
  let database: TestDatabase;
  let bed: HubSpotTestBed;
  let app: INestApplication;
  let session: CrmSession;
  let control: SandboxControlClient;
  let connection: Awaited<ReturnType<typeof seedConnection>>;

  const api = () => request(app.getHttpServer());
  const auth = (call: request.Test) => call.set('Authorization', `Bearer ${TOKEN}`);
  const contactsPath = `/api/v1/tenants/${TENANT}/contacts`;

  /** HubSpot write requests (batch create / update / upsert) the sandbox counted. */
  async function writeCalls(): Promise<number> {
    const { byRoute } = await control.counters();
    return Object.entries(byRoute)
      .filter(([route]) => route.startsWith('POST ') && /\/batch\/(create|update|upsert)$/.test(route))
      .reduce((sum, [, count]) => sum + count, 0);
  }

  /** What a worker does when the debounce is over: takes the due jobs and pushes them per connection. */
  async function triggerPush() {
    const queue = app.get(ContactPushQueue);
    const jobs = await queue.fetchDue();
    const results = await app.get(ContactPushExecutor).handle(jobs.map((job) => job.data));
    await queue.complete(jobs.map((job) => job.id));
    return { jobs: jobs.length, results };
  }

  const crmContact = (email: string) =>
    bed.sandbox.portal
      .store('contacts')
      .all()
      .find((record) => record.properties.email === email);

  beforeAll(async () => {
    database = await createTestDatabase();
    bed = await startHubSpotTestBed();
    session = await bed.session();
    control = new SandboxControlClient(bed.baseUrl);
    app = await startSyncTestApp({
      databaseUrl: database.url,
      connectors: { hubspot: bed.connector },
      sessions: { getSession: async () => session, refreshSession: async () => session },
      platformServiceToken: TOKEN,
      push: { debounceMs: 0 },
    });
    connection = await seedConnection(app, {
      tenantId: TENANT,
      provider: 'hubspot',
      settings: { objects: ['contacts'], realtime: true } as Partial<ConnectionSettings>,
    });
  });

  afterAll(async () => {
    await app?.close();
    await bed?.close();
    await database?.drop();
  });

  it('pushes API edits in ceil(N/batch) writes, one job per contact however often it changed, and the CRM echo writes nothing', async () => {
    const n = 130;
    const records = Array.from({ length: n }, (_, i) => ({
      email: `push${i}@example.com`,
      firstName: `Push${i}`,
    }));
    await auth(api().post(`${contactsPath}/batch`))
      .send({ contacts: records })
      .expect((response) => expect(response.status).toBeLessThan(300));
    // The same contact edited twice more while its push waits: still one job.
    await auth(api().post(contactsPath))
      .send({ email: 'push0@example.com', firstName: 'PushZero' })
      .expect((response) => expect([200, 201]).toContain(response.status));
    await auth(api().post(contactsPath))
      .send({ email: 'push0@example.com', firstName: 'PushZeroAgain' })
      .expect((response) => expect([200, 201]).toContain(response.status));

    await control.resetCounters();
    const created = await triggerPush();
    expect(created.jobs).toBe(n);
    expect(created.results).toEqual([
      expect.objectContaining({ kind: 'pushed', connectionId: connection.id }),
    ]);
    expect(await writeCalls()).toBe(Math.ceil(n / HUBSPOT_BATCH));
    expect(crmContact('push0@example.com')?.properties.firstname).toBe('PushZeroAgain');
    expect(crmContact(`push${n - 1}@example.com`)?.properties.firstname).toBe(`Push${n - 1}`);
    const orm = app.get<MikroORM>(CRM_ORM);
    expect(await orm.em.fork().count(RecordLink, { connection: connection.id, unlinkedAt: null })).toBe(n);

    // Edits of linked contacts: updates, batched the same way.
    const edits = records.slice(0, 7).map((record) => ({ ...record, lastName: 'Edited' }));
    await auth(api().post(`${contactsPath}/batch`))
      .send({ contacts: edits })
      .expect((response) => expect(response.status).toBeLessThan(300));
    await control.resetCounters();
    const updated = await triggerPush();
    expect(updated.jobs).toBe(7);
    expect(await writeCalls()).toBe(1);
    expect(crmContact('push3@example.com')?.properties.lastname).toBe('Edited');

    // The CRM reports the pushed records as changed (what its webhook and change read say): read back, nothing moves.
    await control.resetCounters();
    const em = orm.em.fork();
    const run = em.create(SyncRun, { tenant: TENANT, connection: connection.id, trigger: 'manual' });
    await em.flush();
    const outcome = await new ContactSyncRunner({
      port: bed.connector,
      sessions: { getSession: async () => session, refreshSession: async () => session },
      links: app.get(RecordLinkRepository),
      cursors: app.get(SyncCursorRepository),
      locals: app.get(LocalContactStoreAdapter),
      retries: app.get(SyncRetryRepository),
      log: app.get(SyncLogRepository),
      options: { sleep: async () => undefined },
    }).run({ connection: toSyncConnection(connection), runId: run.id });
    expect(outcome.status).toBe('succeeded');
    expect(outcome.counts.from_crm?.contacts).toMatchObject({ created: 0, updated: 0, conflicts: 0 });
    expect(outcome.counts.to_crm?.contacts ?? { created: 0, updated: 0 }).toMatchObject({
      created: 0,
      updated: 0,
    });
    expect(await writeCalls()).toBe(0);
    // And the sync's own reads queued no push (only API changes do).
    expect((await triggerPush()).jobs).toBe(0);
  });
});
