import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import {
  Contact,
  CrmConnection,
  ProviderSetting,
  SyncCursorState,
  SyncLogEntry,
  SyncRun,
  Tenant,
} from '@pm/domain';
import { CrmError, CrmErrorCode, type IntegrationPort } from '@pm/integration-port';
import { InMemoryConnector, InMemoryCrm } from '@pm/integration-port/testing';
import type { FieldMappingSource } from '@pm/sync-engine';
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { CountingPort, IN_MEMORY_CONTACTS_MAPPING, inMemorySessions } from '@pm/sync-engine/testing';
import { ContactService } from '../contacts/contact.service';
import { CRM_ORM } from '../database/crm-database';
import { SyncExecutor } from './sync-executor';
import { SyncScheduler } from './sync-scheduler';
import { SyncService } from './sync.service';
import { inRequest, seedConnection, startSyncTestApp } from './testing/sync-test-app';

/** Every test provider's 'contacts' object maps like the in-memory CRM's. */
const mappings: FieldMappingSource = {
  mappingFor: (_provider, object) => (object === 'contacts' ? IN_MEMORY_CONTACTS_MAPPING : undefined),
};

/**
 * Polls the database until `probe` holds. The bound is only a backstop against a hang: a loaded machine may take
 * many times longer than an idle one, so it is generous and the test's own timeout (below) is larger still.
 */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Holds the CRM's change reads where a test needs a run to be in the middle of its work: `holdAfter(n)` lets `n`
 * more reads through, then holds each until the test opens the gate or the run's signal aborts the read (a held read
 * then answers, as a request in flight does). Explicit signals instead of a slow CRM and a timer racing it.
 */
class ReadGate {
  private passes = Number.POSITIVE_INFINITY;
  private held: (() => void)[] = [];
  private onHeld?: () => void;
  private connectionId?: string;

  /** Resolves when the first held read of `connectionId` arrives; other connections' reads pass. */
  holdAfter(passes: number, connectionId: string): Promise<void> {
    this.passes = passes;
    this.connectionId = connectionId;
    return new Promise((resolve) => (this.onHeld = resolve));
  }

  open(): void {
    this.passes = Number.POSITIVE_INFINITY;
    for (const release of this.held.splice(0)) release();
  }

  async pass(connectionId: string, signal?: AbortSignal): Promise<void> {
    if (connectionId !== this.connectionId) return;
    if (this.passes > 0) {
      this.passes--;
      return;
    }
    await new Promise<void>((release) => {
      this.held.push(release);
      signal?.addEventListener('abort', () => release(), { once: true });
      this.onHeld?.();
    });
  }
}

// Two Nest apps, pg-boss and PostgreSQL per test: on a busy machine these take minutes, not seconds.
jest.setTimeout(240_000);

describe('sync scheduling and workers (pg-boss on PostgreSQL, two workers)', () => {
  const token = `platform-${randomBytes(24).toString('hex')}`;
  const auth = { actor: 'test', tenantId: null };
  let database: TestDatabase;
  let workerA: INestApplication;
  let workerB: INestApplication;
  let orm: MikroORM;
  let crm: InMemoryCrm;
  let flaky: CountingPort;
  const gate = new ReadGate();

  beforeAll(async () => {
    database = await createTestDatabase();
    crm = new InMemoryCrm();
    const connector = new InMemoryConnector(crm, { maxWriteBatch: 10 });
    // A CRM whose reads the test can hold, to keep a run in the middle of its work.
    const slow: IntegrationPort = Object.assign(Object.create(connector) as IntegrationPort, {
      readChanges: async (...args: Parameters<IntegrationPort['readChanges']>) => {
        await gate.pass(args[0].connectionId, args[0].signal);
        return connector.readChanges(...args);
      },
    });
    flaky = new CountingPort(new InMemoryConnector(crm, { maxWriteBatch: 10 }));
    const options = {
      databaseUrl: database.url,
      connectors: { 'in-memory': slow, flaky: flaky.port },
      sessions: inMemorySessions(crm, connector),
      mappings,
      workers: true,
      platformServiceToken: token,
      executor: {
        busyRetryMs: 300,
        enabledCheckMs: 100,
        runner: { sleep: async () => undefined, readPageSize: 2 },
      },
    };
    workerA = await startSyncTestApp(options);
    workerB = await startSyncTestApp(options);
    orm = workerA.get(CRM_ORM);
  });

  afterAll(async () => {
    await workerA?.close();
    await workerB?.close();
    await database.drop();
  });

  const runsOf = (connectionId: string) =>
    orm.em.fork().find(SyncRun, { connection: connectionId }, { orderBy: { queuedAt: 'asc' } });

  it('never runs one connection on two workers at once; "Sync now" during a run queues exactly one follow-up', async () => {
    const connection = await seedConnection(workerA, { tenantId: 'acme', provider: 'in-memory' });
    for (let i = 0; i < 5; i++) {
      await inRequest(workerA, () =>
        workerA.get(ContactService).upsert(auth, 'acme', { email: `p${i}@example.com`, firstName: `P${i}` }),
      );
    }

    // The first run holds at its first read of the CRM until the clicks below are done.
    const firstRunReading = gate.holdAfter(0, connection.id);
    const first = await request(workerA.getHttpServer())
      .post(`/api/v1/tenants/acme/connections/${connection.id}/sync`)
      .set('Authorization', `Bearer ${token}`)
      .expect(202);
    expect(first.body).toMatchObject({ queued: true, run: { status: 'queued', trigger: 'manual' } });
    await firstRunReading;
    expect((await runsOf(connection.id)).map((run) => run.status)).toEqual(['running']);

    // Five clicks on "Sync now" from either process during the run: one follow-up.
    const clicks = [];
    for (let i = 0; i < 5; i++) {
      const worker = i % 2 ? workerA : workerB;
      clicks.push(
        await inRequest(worker, () => worker.get(SyncService).syncNow(auth, 'acme', connection.id)),
      );
    }
    expect(clicks.map((click) => click.queued)).toEqual([true, false, false, false, false]);
    expect(new Set(clicks.map((click) => click.run.id)).size).toBe(1);
    // A worker handed a job for the busy connection does not run it.
    expect(
      await workerB
        .get(SyncExecutor)
        .execute({ connectionId: connection.id, tenantId: 'acme', runId: randomUUID() }),
    ).toBe('busy');
    gate.open();

    const runs = await waitFor('both runs to finish', async () => {
      const all = await runsOf(connection.id);
      return all.every((run) => run.finishedAt) && all;
    });
    expect(runs.map((run) => run.status)).toEqual(['succeeded', 'succeeded']);
    const [a, b] = runs;
    expect(b.startedAt!.getTime()).toBeGreaterThanOrEqual(a.finishedAt!.getTime());
    expect(crm.recordsByEmail('contacts', ['p0@example.com'])).toHaveLength(1);
    // Both runs spent from the CRM account's one budget row, whichever worker ran them.
    const budgets = await orm.em
      .getConnection()
      .execute<
        { key: string; daily_used: number }[]
      >(`select key, daily_used from rate_budgets where key like 'in-memory:%'`);
    expect(budgets).toHaveLength(1);
    expect(budgets[0].daily_used).toBeGreaterThanOrEqual(4);

    const runsApi = await request(workerA.getHttpServer())
      .get(`/api/v1/tenants/acme/connections/${connection.id}/sync-runs`)
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(runsApi.body[1]).toMatchObject({
      status: 'succeeded',
      counts: { to_crm: { contacts: { created: 5 } } },
    });
    const logApi = await request(workerA.getHttpServer())
      .get(`/api/v1/tenants/acme/connections/${connection.id}/sync-log`)
      .query({ runId: runsApi.body[1].id })
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(logApi.body.data.map((line: { message: string }) => line.message)).toContain(
      'Contact synced: p0@example.com → In-memory CRM',
    );

    // "Why does this field hold this value?"
    const p0 = await orm.em.fork().findOneOrFail(Contact, { tenant: 'acme', email: 'p0@example.com' });
    const provenance = await request(workerA.getHttpServer())
      .get(`/api/v1/tenants/acme/connections/${connection.id}/contacts/${p0.id}/provenance`)
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(provenance.body).toEqual([
      expect.objectContaining({
        crmObject: 'contacts',
        unlinkedAt: null,
        fields: expect.objectContaining({
          firstName: expect.objectContaining({
            value: 'P0',
            side: 'penguinmails',
            rule: 'initial',
            runId: a.id,
          }),
        }),
      }),
    ]);
  });

  it('the tick enqueues connections due by frequency, and never manual, disconnected, disabled or paused ones', async () => {
    const now = new Date();
    const due = await seedConnection(workerA, { tenantId: 'due', provider: 'in-memory' });
    const manual = await seedConnection(workerA, {
      tenantId: 'manual',
      provider: 'in-memory',
      settings: { frequency: 'manual' },
    });
    const disconnected = await seedConnection(workerA, { tenantId: 'gone', provider: 'in-memory' });
    const disabled = await seedConnection(workerA, { tenantId: 'off', provider: 'in-memory' });
    const paused = await seedConnection(workerA, { tenantId: 'paused', provider: 'in-memory' });
    const notYet = await seedConnection(workerA, { tenantId: 'later', provider: 'in-memory' });
    const em = orm.em.fork();
    await em.nativeUpdate(CrmConnection, { id: disconnected.id }, { status: 'disconnected' });
    await em.nativeUpdate(
      CrmConnection,
      { id: paused.id },
      { health: 'paused', nextSyncAt: new Date(now.getTime() + 3_600_000) },
    );
    await em.nativeUpdate(CrmConnection, { id: notYet.id }, { nextSyncAt: new Date(now.getTime() + 60_000) });
    em.create(ProviderSetting, {
      provider: 'in-memory',
      tenant: em.getReference(Tenant, 'off'),
      enabled: false,
    });
    await em.flush();

    const scheduler = workerA.get(SyncScheduler);
    const enqueued = await scheduler.tick(now);
    expect(enqueued).toEqual([due.id]);
    expect(await scheduler.tick(now)).toEqual([]);
    for (const other of [manual, disconnected, disabled, paused, notYet]) {
      expect(await runsOf(other.id)).toEqual([]);
    }
    await waitFor('the scheduled run to finish', async () =>
      (await runsOf(due.id)).every((run) => run.finishedAt),
    );
    expect((await runsOf(due.id)).map((run) => [run.trigger, run.status])).toEqual([
      ['initial', 'succeeded'],
    ]);

    // Disabling the CRM for the tenant stops its scheduled runs; a "Sync now" is refused.
    const em2 = orm.em.fork();
    em2.create(ProviderSetting, {
      provider: 'in-memory',
      tenant: em2.getReference(Tenant, 'due'),
      enabled: false,
    });
    await em2.flush();
    const aDayLater = await scheduler.tick(new Date(now.getTime() + 86_400_000));
    expect(aDayLater).toContain(notYet.id);
    expect(aDayLater).not.toContain(due.id);
    await request(workerA.getHttpServer())
      .post(`/api/v1/tenants/due/connections/${due.id}/sync`)
      .set('Authorization', `Bearer ${token}`)
      .expect(409);
  });

  it('a connection disabled mid-run stops after the page in flight, keeps what it applied, and resumes later', async () => {
    for (let i = 0; i < 12; i++)
      crm.createRecord('contacts', { email: `bulk${i}@example.com`, firstname: `B${i}` });
    const total = crm.listRecords('contacts').length;
    const connection = await seedConnection(workerA, { tenantId: 'stopme', provider: 'in-memory' });
    const execute = async () => {
      const em = orm.em.fork();
      const run = em.create(SyncRun, { tenant: 'stopme', connection: connection.id, trigger: 'manual' });
      await em.flush();
      await workerA
        .get(SyncExecutor)
        .execute({ connectionId: connection.id, tenantId: 'stopme', runId: run.id });
      return orm.em.fork().findOneOrFail(SyncRun, { id: run.id });
    };
    const setEnabled = async (enabled: boolean) => {
      const em = orm.em.fork();
      await em.nativeDelete(ProviderSetting, { provider: 'in-memory', tenant: 'stopme' });
      em.create(ProviderSetting, {
        provider: 'in-memory',
        tenant: em.getReference(Tenant, 'stopme'),
        enabled,
      });
      await em.flush();
    };
    const contactsOfTenant = () => orm.em.fork().count(Contact, { tenant: 'stopme' });

    // The first page is applied; the second read is in flight when an administrator disables the CRM.
    const secondRead = gate.holdAfter(1, connection.id);
    const running = execute();
    await secondRead;
    await setEnabled(false);
    const stopped = await running;
    gate.open();
    expect(stopped.status).toBe('cancelled');
    expect(stopped.error).toBe('Stopped: in-memory is disabled by an administrator');
    const applied = await contactsOfTenant();
    expect(applied).toBeGreaterThan(0);
    expect(applied).toBeLessThan(total);
    const cursor = await orm.em
      .fork()
      .findOneOrFail(SyncCursorState, { connection: connection.id, direction: 'from_crm' });
    expect(cursor.value).not.toBeNull();

    await setEnabled(true);
    expect((await execute()).status).toBe('succeeded');
    expect(await contactsOfTenant()).toBe(total);
  });

  it("pauses, without calling the CRM, when the account's shared daily allocation is used up, until it refills", async () => {
    const connection = await seedConnection(workerA, { tenantId: 'quota', provider: 'flaky' });
    // Other workers (or activity delivery) spent the account's whole day.
    const today = new Date();
    today.setUTCHours(0, 0, 0, 0);
    await orm.em
      .getConnection()
      .execute(
        `insert into rate_budgets (key, daily_limit, day_started_at, daily_used, updated_at) values (?, ?, ?, ?, now())`,
        [`flaky:${connection.id}`, 250_000, today, 250_000],
      );
    const before = { ...flaky.calls };
    const em = orm.em.fork();
    const run = em.create(SyncRun, { tenant: 'quota', connection: connection.id, trigger: 'scheduled' });
    await em.flush();
    await workerA
      .get(SyncExecutor)
      .execute({ connectionId: connection.id, tenantId: 'quota', runId: run.id });

    expect(flaky.calls).toEqual(before);
    const paused = await orm.em.fork().findOneOrFail(CrmConnection, { id: connection.id });
    expect(paused.health).toBe('paused');
    const midnight = new Date(today.getTime() + 24 * 3_600_000);
    expect(Math.abs(paused.nextSyncAt!.getTime() - midnight.getTime())).toBeLessThan(5_000);
    const finished = await orm.em.fork().findOneOrFail(SyncRun, { id: run.id });
    expect(finished.error).toContain('QUOTA_EXHAUSTED');
  });

  it('moves health healthy → degraded on repeated outages → paused on quota → healthy again, logging each change', async () => {
    const connection = await seedConnection(workerA, { tenantId: 'flaky', provider: 'flaky' });
    const executor = workerA.get(SyncExecutor);
    const execute = async () => {
      const em = orm.em.fork();
      const run = em.create(SyncRun, { tenant: 'flaky', connection: connection.id, trigger: 'manual' });
      await em.flush();
      await executor.execute({ connectionId: connection.id, tenantId: 'flaky', runId: run.id });
      return orm.em.fork().findOneOrFail(CrmConnection, { id: connection.id });
    };
    const outage = new CrmError(CrmErrorCode.CRM_UNAVAILABLE, 'Service Unavailable', { status: 503 });

    flaky.failNext('readChanges', outage, { times: 5 });
    expect((await execute()).health).toBe('healthy');
    flaky.failNext('readChanges', outage, { times: 5 });
    expect((await execute()).health).toBe('healthy');
    flaky.failNext('readChanges', outage, { times: 5 });
    const degraded = await execute();
    expect(degraded.health).toBe('degraded');
    expect(degraded.healthReason).toContain('3 runs in a row failed');

    flaky.failNext(
      'readChanges',
      new CrmError(CrmErrorCode.QUOTA_EXHAUSTED, 'Daily limit reached', { retryAfterMs: 3_600_000 }),
    );
    const paused = await execute();
    expect(paused.health).toBe('paused');
    expect(paused.nextSyncAt!.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
    expect(await workerA.get(SyncScheduler).tick(new Date())).not.toContain(connection.id);

    const healthy = await execute();
    expect(healthy.health).toBe('healthy');
    const changes = await orm.em
      .fork()
      .find(
        SyncLogEntry,
        { connection: connection.id, action: 'status_changed' },
        { orderBy: { id: 'asc' } },
      );
    expect(changes.map((line) => line.message)).toEqual([
      expect.stringMatching(/^Connection degraded: 3 runs in a row failed/),
      expect.stringMatching(/^Connection paused: QUOTA_EXHAUSTED: Daily limit reached/),
      'Connection healthy again (was paused)',
    ]);
    const runs = await runsOf(connection.id);
    expect(runs.map((run) => run.status)).toEqual(['failed', 'failed', 'failed', 'failed', 'succeeded']);
  });
});
