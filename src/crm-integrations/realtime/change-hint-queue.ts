import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import PgBoss from 'pg-boss';
import { CRM_INTEGRATIONS_OPTIONS, type CrmIntegrationsOptions } from '../crm-integrations.options';
import { createQueueIfMissing } from '../jobs/create-queue';
import type { SyncQueueOptions } from '../sync/sync-queue';
import { SYNC_QUEUE_OPTIONS } from '../sync/sync.tokens';

/** The pg-boss queue of targeted syncs for change hints. */
export const CHANGE_HINT_QUEUE = 'crm-change-hints';

export interface ChangeHintJob {
  connectionId: string;
}

/**
 * Targeted sync jobs on pg-boss. The `short` policy keyed by connection keeps at most one job waiting per
 * connection: the first hint queues one that starts after the debounce window, and every hint arriving before it
 * starts rides along (the hints themselves are rows, so nothing is lost if a job is).
 */
@Injectable()
export class ChangeHintQueue implements OnApplicationShutdown {
  private readonly logger = new Logger('ChangeHintQueue');
  private starting?: Promise<PgBoss>;
  private boss?: PgBoss;
  private readonly options: SyncQueueOptions;

  constructor(
    @Inject(CRM_INTEGRATIONS_OPTIONS) private readonly crmOptions: CrmIntegrationsOptions,
    @Optional() @Inject(SYNC_QUEUE_OPTIONS) options?: SyncQueueOptions,
  ) {
    this.options = options ?? {};
  }

  private start(): Promise<PgBoss> {
    this.starting ??= (async () => {
      const schema = this.crmOptions.database.schema;
      const boss = new PgBoss({
        connectionString: this.crmOptions.database.clientUrl,
        schema: schema ? `${schema}_pgboss` : 'pgboss',
        max: 2,
        schedule: false,
        // The sync queue's instance runs pg-boss maintenance for every queue of the schema.
        supervise: false,
        application_name: 'pmcrm-change-hints',
      });
      boss.on('error', (error: Error) => this.logger.error(`pg-boss: ${error.message}`));
      await boss.start();
      await createQueueIfMissing(boss, CHANGE_HINT_QUEUE, {
        name: CHANGE_HINT_QUEUE,
        policy: 'short',
        retryLimit: 0,
        expireInHours: 1,
      });
      this.boss = boss;
      return boss;
    })();
    return this.starting;
  }

  /**
   * Queues a targeted sync of the connection in `delayMs` (whole seconds, by the database's clock); null when one
   * is already waiting (it takes the new hints too).
   */
  async enqueue(connectionId: string, delayMs: number): Promise<string | null> {
    const boss = await this.start();
    const seconds = Math.max(0, Math.ceil(delayMs / 1000));
    return boss.send(
      CHANGE_HINT_QUEUE,
      { connectionId },
      { singletonKey: connectionId, ...(seconds > 0 ? { startAfter: seconds } : {}) },
    );
  }

  async work(handler: (job: ChangeHintJob) => Promise<void>): Promise<void> {
    const boss = await this.start();
    const lanes = Math.max(1, this.options.workerConcurrency ?? 2);
    for (let lane = 0; lane < lanes; lane++) {
      await boss.work<ChangeHintJob>(
        CHANGE_HINT_QUEUE,
        { pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 1, batchSize: 1 },
        async ([job]) => handler(job.data),
      );
    }
  }

  async stopWorkers(): Promise<void> {
    if (this.boss) await this.boss.offWork(CHANGE_HINT_QUEUE);
  }

  async onApplicationShutdown(): Promise<void> {
    const boss = this.boss ?? (this.starting ? await this.starting.catch(() => undefined) : undefined);
    if (boss) await boss.stop({ graceful: true, wait: true, timeout: 30_000 });
  }
}
