import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import PgBoss from 'pg-boss';
import { CRM_INTEGRATIONS_OPTIONS, type CrmIntegrationsOptions } from '../crm-integrations.options';
import { createQueueIfMissing } from '../jobs/create-queue';
import { CONTACT_SYNC_QUEUE, SYNC_QUEUE_OPTIONS, type ContactSyncJob } from './sync.tokens';

export interface SyncQueueOptions {
  /** How often an idle worker polls for jobs (pg-boss default 2 s). */
  pollingIntervalSeconds?: number;
  /** Jobs one process runs at once (one per connection at most, whatever this says). */
  workerConcurrency?: number;
  /** Run pg-boss maintenance (expiry, archiving) in this process. */
  supervise?: boolean;
  /** How long a graceful stop waits for jobs in flight before failing them (default 30 s). */
  stopWaitSeconds?: number;
}

/**
 * The job queue, on pg-boss in the same PostgreSQL: more worker processes on more machines share the work with no
 * other infrastructure. The queue uses pg-boss's `short` policy keyed by connection, so each connection has at
 * most one job waiting — a "Sync now" during a run queues one follow-up, never a pile. At most one job per
 * connection *runs* at a time is the advisory lock's job (see SyncLocks), which, unlike pg-boss's `stately` policy,
 * never makes a busy connection's queued job block other tenants' jobs at the head of the queue.
 */
/**
 * Two of pg-boss's one-second checks for stopped workers (see `onApplicationShutdown`): one may find a worker still
 * finishing its last fetch on a busy machine (seen with one check's worth).
 */
const PG_BOSS_WORKER_SETTLE_MS = 2_100;

@Injectable()
export class SyncQueue implements OnApplicationShutdown {
  private readonly logger = new Logger('SyncQueue');
  private boss?: PgBoss;
  /** Whether this process registered a worker loop (a producer-only process has none to wait for at shutdown). */
  private hasWorkers = false;
  /** This process's worker loops on the sync queue (see `work`), woken when a job is queued here. */
  private readonly workerIds: string[] = [];
  /** Job handlers running now, on every queue of the process's pg-boss (see `onApplicationShutdown`). */
  private readonly handlersInFlight = new Map<string, number>();
  private readonly handlersSettled: Array<() => void> = [];
  private starting?: Promise<PgBoss>;
  private readonly options: SyncQueueOptions;

  constructor(
    @Inject(CRM_INTEGRATIONS_OPTIONS) private readonly crmOptions: CrmIntegrationsOptions,
    @Optional() @Inject(SYNC_QUEUE_OPTIONS) options?: SyncQueueOptions,
  ) {
    this.options = options ?? {};
  }

  /** Starts pg-boss once (creating its schema and the queue on first use). */
  start(): Promise<PgBoss> {
    this.starting ??= (async () => {
      const schema = this.crmOptions.database.schema;
      const boss = new PgBoss({
        connectionString: this.crmOptions.database.clientUrl,
        schema: schema ? `${schema}_pgboss` : 'pgboss',
        // One instance serves every queue of the process (sync, activities, webhooks, change hints, push).
        max: 6,
        schedule: false,
        supervise: this.options.supervise ?? true,
        application_name: 'pmcrm-sync-queue',
      });
      boss.on('error', (error: Error) => this.logger.error(`pg-boss: ${error.message}`));
      await boss.start();
      // pg-boss 10: a send to a queue that does not exist stores nothing, so the queue is created first.
      await createQueueIfMissing(boss, CONTACT_SYNC_QUEUE, {
        name: CONTACT_SYNC_QUEUE,
        policy: 'short',
        retryLimit: 0,
        expireInHours: 6,
      });
      this.boss = boss;
      return boss;
    })();
    return this.starting;
  }

  /** Queues a run of the connection; null when one is already waiting (the waiting one will do). */
  async enqueue(
    job: ContactSyncJob,
    options: { startAfter?: Date; priority?: number; singletonKey?: string } = {},
  ): Promise<string | null> {
    const boss = await this.start();
    // pg-boss validates every option present, so absent ones are left out rather than sent as undefined.
    const jobId = await boss.send(
      CONTACT_SYNC_QUEUE,
      { ...job },
      {
        // A reconcile waits in a slot of its own: it neither replaces nor is replaced by a waiting sync.
        singletonKey: options.singletonKey ?? job.connectionId,
        ...(options.startAfter ? { startAfter: options.startAfter } : {}),
        ...(options.priority !== undefined ? { priority: options.priority } : {}),
      },
    );
    // A job due now is fetched at once by this process's idle workers instead of at their next poll (up to the
    // polling interval later: 2 s by default, most of a small "Sync now"). Workers elsewhere still poll.
    if (jobId && (!options.startAfter || options.startAfter.getTime() <= Date.now())) {
      for (const id of this.workerIds) boss.notifyWorker(id);
    }
    return jobId;
  }

  workerStarting(): void {
    this.hasWorkers = true;
  }

  async handling<T>(queue: string, handler: () => Promise<T>): Promise<T> {
    this.handlersInFlight.set(queue, (this.handlersInFlight.get(queue) ?? 0) + 1);
    try {
      return await handler();
    } finally {
      const left = (this.handlersInFlight.get(queue) ?? 1) - 1;
      if (left > 0) this.handlersInFlight.set(queue, left);
      else this.handlersInFlight.delete(queue);
      if (this.handlersInFlight.size === 0) for (const settled of this.handlersSettled.splice(0)) settled();
    }
  }

  /** Resolves once no job handler of this process runs (at once when none does). */
  private handlersIdle(): Promise<void> {
    if (this.handlersInFlight.size === 0) return Promise.resolve();
    const running = [...this.handlersInFlight].map(([queue, count]) => `${queue} ×${count}`).join(', ');
    this.logger.warn(`Waiting for jobs still running after the queue stopped: ${running}`);
    return new Promise((resolve) => this.handlersSettled.push(resolve));
  }

  async work(handler: (job: ContactSyncJob) => Promise<void>): Promise<string> {
    const boss = await this.start();
    this.workerStarting();
    const concurrency = Math.max(1, this.options.workerConcurrency ?? 2);
    // pg-boss 10 runs one fetch loop per `work` call; several loops give several jobs in flight.
    const ids: string[] = [];
    for (let lane = 0; lane < concurrency; lane++) {
      ids.push(
        await boss.work<ContactSyncJob>(
          CONTACT_SYNC_QUEUE,
          { pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 2, batchSize: 1 },
          async ([job]) => this.handling(CONTACT_SYNC_QUEUE, () => handler(job.data)),
        ),
      );
    }
    this.workerIds.push(...ids);
    return ids.join(',');
  }

  /** Fails the queue's active jobs of a run whose worker died, so they do not sit active until expiry. */
  async failActiveJobsOfRun(runId: string, reason: string): Promise<number> {
    const boss = await this.start();
    const schema = this.crmOptions.database.schema ? `${this.crmOptions.database.schema}_pgboss` : 'pgboss';
    const rows = await boss
      .getDb()
      .executeSql(
        `select id from ${schema}.job where name = $1 and state = 'active' and data->>'runId' = $2`,
        [CONTACT_SYNC_QUEUE, runId],
      );
    const ids = (rows as { rows: { id: string }[] }).rows.map((row) => row.id);
    for (const id of ids) await boss.fail(CONTACT_SYNC_QUEUE, id, { reason });
    return ids.length;
  }

  /** Stops fetching; jobs in flight finish first. */
  async stopWorkers(): Promise<void> {
    this.workerIds.length = 0;
    if (this.boss) await this.boss.offWork(CONTACT_SYNC_QUEUE);
  }

  async onApplicationShutdown(): Promise<void> {
    const boss = this.boss ?? (this.starting ? await this.starting.catch(() => undefined) : undefined);
    if (!boss) return;
    await boss.stop({ graceful: true, wait: true, timeout: (this.options.stopWaitSeconds ?? 30) * 1_000 });
    // pg-boss's stop (and offWork) leave a loop that checks every second until each worker reports stopped; it
    // outlives `stop()`. Letting it finish here means nothing of pg-boss runs after the application has closed (a
    // host's test runner tears its module registry down right after, and that loop's lazy require then throws).
    // A worker stops only once its handler returns, which on a busy machine can be after `stop()`'s own wait gave
    // up: the checks can end only after that.
    if (!this.hasWorkers) return;
    await Promise.race([this.handlersIdle(), new Promise((resolve) => setTimeout(resolve, 60_000).unref())]);
    await new Promise((resolve) => setTimeout(resolve, PG_BOSS_WORKER_SETTLE_MS).unref());
  }
}
