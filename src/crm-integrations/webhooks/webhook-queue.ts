import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import PgBoss from 'pg-boss';
import { CRM_INTEGRATIONS_OPTIONS, type CrmIntegrationsOptions } from '../crm-integrations.options';
import { createQueueIfMissing } from '../jobs/create-queue';
import type { SyncQueueOptions } from '../sync/sync-queue';
import { SYNC_QUEUE_OPTIONS } from '../sync/sync.tokens';

/** The pg-boss queue of webhook jobs: one job takes a tenant's new feed entries and sends what is due. */
export const WEBHOOK_DELIVERY_QUEUE = 'crm-webhook-delivery';

export interface WebhookDeliveryJob {
  tenantId: string;
}

/**
 * Webhook jobs on pg-boss in the same PostgreSQL. The `short` policy keyed by tenant keeps at most one job waiting
 * per tenant: a burst of synced changes makes one job, which takes every change waiting. Retries are not pg-boss
 * retries: each delivery keeps its own next attempt, and the job asks for a follow-up at the earliest one.
 */
@Injectable()
export class WebhookQueue implements OnApplicationShutdown {
  private readonly logger = new Logger('WebhookQueue');
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
        application_name: 'pmcrm-webhook-queue',
      });
      boss.on('error', (error: Error) => this.logger.error(`pg-boss: ${error.message}`));
      await boss.start();
      await createQueueIfMissing(boss, WEBHOOK_DELIVERY_QUEUE, {
        name: WEBHOOK_DELIVERY_QUEUE,
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
   * Queues the tenant's webhook job; null when the same one is already waiting. A job for now is one per tenant (it
   * takes every change waiting); a later one (a retry) is one per tenant and time, so a retry due sooner is never
   * held behind one due later.
   */
  async enqueue(tenantId: string, options: { startAfter?: Date } = {}): Promise<string | null> {
    const boss = await this.start();
    const { startAfter } = options;
    return boss.send(
      WEBHOOK_DELIVERY_QUEUE,
      { tenantId },
      startAfter
        ? { singletonKey: `${tenantId}@${startAfter.getTime()}`, startAfter }
        : { singletonKey: tenantId },
    );
  }

  async work(handler: (job: WebhookDeliveryJob) => Promise<void>): Promise<void> {
    const boss = await this.start();
    await boss.work<WebhookDeliveryJob>(
      WEBHOOK_DELIVERY_QUEUE,
      { pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 2, batchSize: 1 },
      async ([job]) => handler(job.data),
    );
  }

  async stopWorkers(): Promise<void> {
    if (this.boss) await this.boss.offWork(WEBHOOK_DELIVERY_QUEUE);
  }

  async onApplicationShutdown(): Promise<void> {
    const boss = this.boss ?? (this.starting ? await this.starting.catch(() => undefined) : undefined);
    if (boss) await boss.stop({ graceful: true, wait: true, timeout: 30_000 });
  }
}
