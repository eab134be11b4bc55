import { Inject, Injectable, Optional } from '@nestjs/common';
import { SharedJobQueue } from '../jobs/shared-job-queue';
import { SyncQueue, type SyncQueueOptions } from '../sync/sync-queue';
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
export class WebhookQueue {
  private readonly queue: SharedJobQueue<WebhookDeliveryJob>;
  private readonly options: SyncQueueOptions;

  constructor(syncQueue: SyncQueue, @Optional() @Inject(SYNC_QUEUE_OPTIONS) options?: SyncQueueOptions) {
    this.options = options ?? {};
    this.queue = new SharedJobQueue(syncQueue, {
      name: WEBHOOK_DELIVERY_QUEUE,
      policy: 'short',
      retryLimit: 0,
      expireInHours: 1,
    });
  }

  /**
   * Queues the tenant's webhook job; null when the same one is already waiting. A job for now is one per tenant (it
   * takes every change waiting); a later one (a retry) is one per tenant and time, so a retry due sooner is never
   * held behind one due later.
   */
  enqueue(tenantId: string, options: { startAfter?: Date } = {}): Promise<string | null> {
    const { startAfter } = options;
    return this.queue.send(
      { tenantId },
      startAfter
        ? { singletonKey: `${tenantId}@${startAfter.getTime()}`, startAfter }
        : { singletonKey: tenantId },
    );
  }

  work(handler: (job: WebhookDeliveryJob) => Promise<void>): Promise<void> {
    return this.queue.work(1, this.options.pollingIntervalSeconds ?? 2, handler);
  }

  stopWorkers(): Promise<void> {
    return this.queue.stopWorkers();
  }
}
