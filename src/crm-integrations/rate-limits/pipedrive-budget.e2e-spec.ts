import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { Contact, ProviderSetting, SyncRun, Tenant } from '@pm/domain';
import { CrmError, CrmErrorCode, type CrmSession } from '@pm/integration-port';
import { PipedriveConnector } from '@pm/connectors/pipedrive';
import { createPipedriveSandbox, type PipedriveSandbox } from '@pm/sandboxes';
import { connectSession, REDIRECT_URI } from '@pm/connectors/pipedrive/testing';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { CRM_ORM } from '../database/crm-database';
import { SyncExecutor } from '../sync/sync-executor';
import { seedConnection, startSyncTestApp } from '../sync/testing/sync-test-app';

/**
 * Time as both Pipedrive's burst window (the sandbox's rate limiter) and the account's rate budget see it, running
 * `SPEED` times faster than the wall clock: a run that must spread its requests over Pipedrive's 2-s windows takes a
 * tenth of the time, while the sandbox still refuses (429) anything over 80 requests in any 2 s of this time.
 */
const SPEED = 10;

/** Persons made on each side: in Pipedrive and in PenguinMails. */
const PER_SIDE = 250;

class BudgetTime {
  private readonly startedAt = Date.now();
  /** While set, a wait does not pass: it ends only when the run's signal aborts it. */
  private held?: { entered: () => void };

  readonly now = () => this.startedAt + (Date.now() - this.startedAt) * SPEED;

  readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const aborted = () => {
        clearTimeout(timer);
        reject(new CrmError(CrmErrorCode.ABORTED, 'aborted', { cause: signal?.reason }));
      };
      const timer = this.held ? undefined : setTimeout(resolve, ms / SPEED);
      this.held?.entered();
      if (signal?.aborted) aborted();
      signal?.addEventListener('abort', aborted, { once: true });
    });

  /** From now on every wait holds until aborted; resolves when the first one starts. */
  hold(): Promise<void> {
    return new Promise((entered) => (this.held = { entered }));
  }

  release(): void {
    this.held = undefined;
  }
}

describe('Pipedrive rate budget through the production worker path (executor, PostgreSQL budget, real connector)', () => {
  const time = new BudgetTime();
  let database: TestDatabase;
  let app: INestApplication;
  let orm: MikroORM;
  let sandbox: PipedriveSandbox;
  let session: CrmSession;
  const refusals: string[] = [];
  let requests = 0;

  beforeAll(async () => {
    database = await createTestDatabase();
    sandbox = createPipedriveSandbox({
      redirectUris: [REDIRECT_URI],
      seed: 5,
      // Pipedrive's real burst window, enforced. The daily token budget is not what this test is about.
      rateLimit: { limit: 80, windowMs: 2_000, dailyLimit: 10_000_000, enforce: true, now: time.now },
    });
    const base = await sandbox.start();
    const take = sandbox.rateLimiter.take.bind(sandbox.rateLimiter);
    sandbox.rateLimiter.take = (account, cost) => {
      const decision = take(account, cost);
      requests++;
      if (!decision.allowed) refusals.push(`${decision.reason} at ${new Date(time.now()).toISOString()}`);
      return decision;
    };
    const connector = new PipedriveConnector({
      clientId: sandbox.oauth.clientId,
      clientSecret: sandbox.oauth.clientSecret,
      oauthBaseUrl: base,
      apiBaseUrl: base,
      requestTimeoutMs: 10_000,
    });
    session = await connectSession(connector);
    app = await startSyncTestApp({
      databaseUrl: database.url,
      connectors: { pipedrive: connector },
      sessions: { getSession: async () => session, refreshSession: async () => session },
      executor: { budgetClock: time, enabledCheckMs: 50, runner: { sleep: async () => undefined } },
    });
    orm = app.get<MikroORM>(CRM_ORM);
  });

  afterAll(async () => {
    await app?.close();
    await sandbox?.stop();
    await database?.drop();
  });

  async function execute(tenantId: string, connectionId: string) {
    const em = orm.em.fork();
    const run = em.create(SyncRun, { tenant: tenantId, connection: connectionId, trigger: 'manual' });
    await em.flush();
    await app.get(SyncExecutor).execute({ connectionId, tenantId, runId: run.id });
    return orm.em.fork().findOneOrFail(SyncRun, { id: run.id });
  }

  it('syncs 250 persons in and 250 contacts out without one 429, spreading the calls over Pipedrive’s windows', async () => {
    const tenantId = 'burst';
    sandbox.seedPersons(PER_SIDE);
    const connection = await seedConnection(app, {
      tenantId,
      provider: 'pipedrive',
      settings: { objects: ['persons'] },
    });
    // PenguinMails' side, written straight to the table (the contacts service's audit is not under test here).
    const em = orm.em.fork();
    for (let i = 0; i < PER_SIDE; i++) {
      em.create(Contact, {
        tenant: em.getReference(Tenant, tenantId),
        email: `out${i}@penguin.example`,
        firstName: 'Out',
        lastName: `N${i}`,
      });
    }
    await em.flush();
    const started = time.now();
    requests = 0;
    sandbox.counters.reset();

    const run = await execute(tenantId, connection.id);

    expect({ status: run.status, error: run.error }).toEqual({ status: 'succeeded', error: null });
    expect(refusals).toEqual([]);
    // One layer owns concurrency: the engine's gate at the connector's declared limit (5), one request per port call.
    expect(sandbox.counters.maxInFlight()).toBeGreaterThan(0);
    expect(sandbox.counters.maxInFlight()).toBeLessThanOrEqual(5);
    expect(sandbox.records('persons')).toHaveLength(2 * PER_SIDE);
    expect(await orm.em.fork().count(Contact, { tenant: tenantId })).toBe(2 * PER_SIDE);
    // One request per create (the complete first read of the persons was the e-mail look-up) and a few reads:
    // several windows' worth, and they took at least as many 2-s windows as 80 a window needs.
    expect(requests).toBeGreaterThan(3 * 80);
    expect(requests).toBeLessThanOrEqual(PER_SIDE + 5);
    expect(time.now() - started).toBeGreaterThanOrEqual(Math.floor(requests / 80 - 1) * 2_000);
    // About 30 s on an idle machine; the bound is a backstop for a loaded one.
  }, 180_000);

  it('a run waiting for the budget stops as soon as its connection is disabled, without calling Pipedrive', async () => {
    const tenantId = 'waiting';
    const connection = await seedConnection(app, {
      tenantId,
      provider: 'pipedrive',
      settings: { objects: ['persons'] },
    });
    // Pipedrive asked the account for an hour's pause (Retry-After), as another worker recorded.
    const budgetKey = `pipedrive:${connection.id}`;
    await orm.em
      .getConnection()
      .execute(`insert into rate_budgets (key, paused_until, updated_at) values (?, ?, now())`, [
        budgetKey,
        new Date(time.now() + 3_600_000),
      ]);
    const waiting = time.hold();
    requests = 0;
    const running = execute(tenantId, connection.id);
    await waiting;

    const em = orm.em.fork();
    em.create(ProviderSetting, {
      provider: 'pipedrive',
      tenant: em.getReference(Tenant, tenantId),
      enabled: false,
    });
    await em.flush();
    const stopped = await running;
    time.release();

    expect(stopped.status).toBe('cancelled');
    expect(stopped.error).toBe('Stopped: pipedrive is disabled by an administrator');
    expect(requests).toBe(0);
  });
});
