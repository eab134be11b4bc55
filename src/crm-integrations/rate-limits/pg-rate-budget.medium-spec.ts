import { MikroORM } from '@mikro-orm/postgresql';
import { createOrmConfig } from '@pm/domain';
import { CrmError, CrmErrorCode } from '@pm/integration-port';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { PgRateBudget } from './pg-rate-budget';

describe('PgRateBudget: one CRM account, one budget, shared by every worker', () => {
  let database: TestDatabase;
  let workerA: MikroORM;
  let workerB: MikroORM;

  beforeAll(async () => {
    database = await createTestDatabase();
    workerA = await MikroORM.init(createOrmConfig({ clientUrl: database.url }));
    await workerA.getMigrator().up();
    workerB = await MikroORM.init(createOrmConfig({ clientUrl: database.url }));
  });

  afterAll(async () => {
    await workerA.close(true);
    await workerB.close(true);
    await database.drop();
  });

  /** A clock the test moves: sleeping advances it instead of waiting. */
  function fakeTime(startIso: string) {
    let now = Date.parse(startIso);
    return {
      now: () => now,
      sleep: async (ms: number) => void (now += ms),
      advance: (ms: number) => (now += ms),
    };
  }

  it('never lets two workers together exceed the rolling window', async () => {
    const policies = [{ kind: 'window' as const, limit: 5, windowMs: 400 }];
    const a = new PgRateBudget(workerA, 'hubspot:portal-1', policies);
    const b = new PgRateBudget(workerB, 'hubspot:portal-1', policies);
    const grants: number[] = [];
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        (i % 2 ? a : b).acquire(1, 'interactive').then(async (grant) => {
          grants.push(Date.now());
          // The call is made at once: its grant leaves the window one window length after now.
          await grant.settle();
        }),
      ),
    );
    grants.sort((x, y) => x - y);
    expect(grants).toHaveLength(15);
    // Any 6 consecutive grants span at least one window: never 6 inside 400 ms.
    for (let i = 0; i + 5 < grants.length; i++) expect(grants[i + 5] - grants[i]).toBeGreaterThanOrEqual(395);
    expect(Date.now() - started).toBeGreaterThanOrEqual(795);
  });

  it('keeps room for a user: background work stops at its share while an interactive call goes through', async () => {
    const time = fakeTime('2026-11-24T10:00:00Z');
    const policies = [{ kind: 'window' as const, limit: 4, windowMs: 10_000 }];
    const budget = new PgRateBudget(workerA, 'salesforce:org-share', policies, {
      now: time.now,
      sleep: time.sleep,
    });
    for (let i = 0; i < 3; i++) await budget.acquire(1, 'background');
    let backgroundGranted = false;
    const background = budget.acquire(1, 'background').then(() => (backgroundGranted = true));
    await new PgRateBudget(workerB, 'salesforce:org-share', policies, {
      now: time.now,
      sleep: async () => undefined,
    }).acquire(1, 'interactive');
    expect(backgroundGranted).toBe(false);
    await background;
    // It was granted only after the window moved on.
    expect(time.now()).toBeGreaterThanOrEqual(Date.parse('2026-11-24T10:00:10Z'));
  });

  it('pauses, not fails, when the daily allocation runs out; or says QUOTA_EXHAUSTED when asked to', async () => {
    const time = fakeTime('2026-11-24T23:59:00Z');
    const policies = [{ kind: 'daily' as const, limit: 3 }];
    const budget = new PgRateBudget(workerA, 'salesforce:org-daily', policies, {
      now: time.now,
      sleep: time.sleep,
    });
    for (let i = 0; i < 3; i++) await budget.acquire(1, 'background');
    const signalled = await budget
      .acquire(1, 'interactive', { whenDailyExhausted: 'signal' })
      .catch((e: unknown) => e);
    expect(CrmError.is(signalled, CrmErrorCode.QUOTA_EXHAUSTED)).toBe(true);
    expect((signalled as CrmError).retryAfterMs).toBe(60_000);
    await budget.acquire(1, 'background');
    expect(new Date(time.now()).toISOString() >= '2026-11-25T00:00:00.000Z').toBe(true);
  });

  it("follows the CRM's own word: Retry-After pauses every worker, remaining counts fill the window", async () => {
    const time = fakeTime('2026-11-24T12:00:00Z');
    const policies = [{ kind: 'window' as const, limit: 10, windowMs: 10_000 }];
    const a = new PgRateBudget(workerA, 'hubspot:portal-report', policies, {
      now: time.now,
      sleep: time.sleep,
    });
    const b = new PgRateBudget(workerB, 'hubspot:portal-report', policies, {
      now: time.now,
      sleep: time.sleep,
    });
    await a.report({ retryAfterMs: 2_500 });
    await b.acquire(1, 'interactive');
    expect(time.now() - Date.parse('2026-11-24T12:00:00Z')).toBeGreaterThanOrEqual(2_500);

    const before = time.now();
    await a.report({ windowLimit: 10, windowRemaining: 0 });
    await b.acquire(1, 'interactive');
    expect(time.now() - before).toBeGreaterThanOrEqual(10_000);
  });

  it('with no limit declared, grants at once yet still waits out a Retry-After another worker saw', async () => {
    const time = fakeTime('2026-11-24T12:00:00Z');
    const start = time.now();
    const a = new PgRateBudget(workerA, 'pipedrive:no-limits', [], { now: time.now, sleep: time.sleep });
    const b = new PgRateBudget(workerB, 'pipedrive:no-limits', [], { now: time.now, sleep: time.sleep });
    for (let call = 0; call < 50; call++) await (await b.acquire(10, 'background')).settle();
    expect(time.now()).toBe(start);

    await a.report({ retryAfterMs: 4_000 });
    await b.acquire(1, 'background');
    expect(time.now() - start).toBeGreaterThanOrEqual(4_000);
    // The pause is over: the next call goes at once.
    const after = time.now();
    await b.acquire(1, 'background');
    expect(time.now()).toBe(after);
  });

  it("paces every worker to the org's reported allocation spread over the day (Salesforce)", async () => {
    const time = fakeTime('2026-11-24T12:00:00Z');
    const start = time.now();
    // Declared: 15,000 a day (one call per 5.76 s spread); the org reports 432,000 (5 a second).
    const policies = [{ kind: 'daily' as const, limit: 15_000, spread: { burst: 100 } }];
    const options = { now: time.now, sleep: time.sleep };
    const a = new PgRateBudget(workerA, 'salesforce:org-spread', policies, options);
    await a.report({ dailyLimit: 432_000, dailyRemaining: 431_000 });
    // Another worker, which never saw the header, reads the allocation from the row: 95 calls at once (5 of each 100
    // kept for requests no call is charged), then the 96th waits for the first to leave the 20-s window (at 15,000 it
    // would wait 576 s).
    const b = new PgRateBudget(workerB, 'salesforce:org-spread', policies, options);
    for (let call = 0; call < 19; call++) await (await b.acquire(5, 'interactive')).settle();
    expect(time.now()).toBe(start);
    await b.acquire(1, 'interactive');
    expect(time.now() - start).toBeGreaterThanOrEqual(20_000);
    expect(time.now() - start).toBeLessThan(21_000);
  });
});
