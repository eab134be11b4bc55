import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import PgBoss from 'pg-boss';
import { CRM_INTEGRATIONS_OPTIONS, type CrmIntegrationsOptions } from '../crm-integrations.options';
import { createQueueIfMissing } from '../jobs/create-queue';
import type { SyncQueueOptions } from '../sync/sync-queue';
import { SYNC_QUEUE_OPTIONS } from '../sync/sync.tokens';

/** The pg-boss queue of activity delivery jobs. */
export const ACTIVITY_DELIVERY_QUEUE = 'crm-activity-delivery';

export interface ActivityDeliveryJob {
  connectionId: string;
}

/**
 * Activity delivery jobs on pg-boss in the same PostgreSQL. The `short` policy keyed by connection keeps at most
 * one job waiting per connection, so a storm of ingest calls makes one delivery, which then takes every event
 * waiting. Queue tuning (polling, lanes) follows the sync queue's options.
 */
@Injectable()
export class ActivityQueue implements OnApplicationShutdown {
  private readonly logger = new Logger('ActivityQueue');
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
        application_name: 'pmcrm-activity-queue',
      });
      boss.on('error', (error: Error) => this.logger.error(`pg-boss: ${error.message}`));
      await boss.start();
      // pg-boss 10: a send to a queue that does not exist stores nothing.
      await createQueueIfMissing(boss, ACTIVITY_DELIVERY_QUEUE, {
        name: ACTIVITY_DELIVERY_QUEUE,
        policy: 'short',
        retryLimit: 0,
        expireInHours: 2,
      });
      this.boss = boss;
      return boss;
    })();
    return this.starting;
  }

  /** Queues a delivery of the connection; null when one is already waiting (it will take the new events too). */
  async enqueue(connectionId: string, options: { startAfter?: Date } = {}): Promise<string | null> {
    const boss = await this.start();
    return boss.send(
      ACTIVITY_DELIVERY_QUEUE,
      { connectionId },
      { singletonKey: connectionId, ...(options.startAfter ? { startAfter: options.startAfter } : {}) },
    );
  }

  async work(handler: (job: ActivityDeliveryJob) => Promise<void>): Promise<void> {
    const boss = await this.start();
    const lanes = Math.max(1, this.options.workerConcurrency ?? 2);
    for (let lane = 0; lane < lanes; lane++) {
      await boss.work<ActivityDeliveryJob>(
        ACTIVITY_DELIVERY_QUEUE,
        { pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 2, batchSize: 1 },
        async ([job]) => handler(job.data),
      );
    }
  }

  async stopWorkers(): Promise<void> {
    if (this.boss) await this.boss.offWork(ACTIVITY_DELIVERY_QUEUE);
  }

  async onApplicationShutdown(): Promise<void> {
    const boss = this.boss ?? (this.starting ? await this.starting.catch(() => undefined) : undefined);
    if (boss) await boss.stop({ graceful: true, wait: true, timeout: 30_000 });
  }
}
