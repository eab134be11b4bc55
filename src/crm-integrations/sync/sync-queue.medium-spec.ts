import type { CrmIntegrationsOptions } from '../crm-integrations.options';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { SyncQueue } from './sync-queue';
import type { ContactSyncJob } from './sync.tokens';

/** Jobs the worker handled, each resolving the promise made for its run id. */
function handledJobs() {
  const waiting = new Map<string, () => void>();
  return {
    handled: (runId: string) => new Promise<void>((resolve) => waiting.set(runId, resolve)),
    handler: async (job: ContactSyncJob) => waiting.get(job.runId)?.(),
  };
}

describe('SyncQueue on PostgreSQL (pg-boss)', () => {
  let database: TestDatabase;
  let queue: SyncQueue;

  beforeAll(async () => {
    database = await createTestDatabase();
    // The workers poll only once a minute: a job this test waits for can only be fetched sooner by being notified.
    queue = new SyncQueue({ database: { clientUrl: database.url } } as CrmIntegrationsOptions, {
      pollingIntervalSeconds: 60,
      workerConcurrency: 2,
      supervise: false,
    });
  });

  afterAll(async () => {
    await queue?.onApplicationShutdown();
    await database?.drop();
  });

  it('wakes this process idle workers for a job queued here, without waiting for their next poll', async () => {
    const jobs = handledJobs();
    await queue.work(jobs.handler);
    // The first job ends the workers' first fetches; from then on they sleep until their next poll, a minute away.
    const first = jobs.handled('run-1');
    await queue.enqueue({ connectionId: 'connection-1', tenantId: 'tenant', runId: 'run-1' });
    await first;
    const second = jobs.handled('run-2');
    await queue.enqueue({ connectionId: 'connection-2', tenantId: 'tenant', runId: 'run-2' });
    // Well inside the one-minute poll: it was fetched because it was queued, not because a poll came round.
    await second;
  }, 30_000);
});

describe('SyncQueue shutdown with a job still running past its stop wait', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('returns only after the job handler has returned, so nothing of pg-boss outlives the application', async () => {
    const queue = new SyncQueue({ database: { clientUrl: database.url } } as CrmIntegrationsOptions, {
      pollingIntervalSeconds: 60,
      workerConcurrency: 1,
      supervise: false,
      stopWaitSeconds: 1,
    });
    const boss = await queue.start();
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    // The job outlasts pg-boss's stop: it is still working 3 s after pg-boss gave up waiting and closed its pool.
    const stopped = new Promise<void>((resolve) => boss.once('stopped', () => resolve()));
    let handlerReturned = false;
    await queue.work(async () => {
      started();
      await stopped;
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      handlerReturned = true;
    });
    await queue.enqueue({ connectionId: 'connection-long', tenantId: 'tenant', runId: 'run-long' });
    await running;

    await queue.onApplicationShutdown();
    expect(handlerReturned).toBe(true);
  }, 60_000);
});
