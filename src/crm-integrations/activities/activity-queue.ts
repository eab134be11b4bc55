import { Inject, Injectable, Optional } from '@nestjs/common';
import { SharedJobQueue } from '../jobs/shared-job-queue';
import { SyncQueue, type SyncQueueOptions } from '../sync/sync-queue';
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
export class ActivityQueue {
  private readonly queue: SharedJobQueue<ActivityDeliveryJob>;
  private readonly options: SyncQueueOptions;

  constructor(syncQueue: SyncQueue, @Optional() @Inject(SYNC_QUEUE_OPTIONS) options?: SyncQueueOptions) {
    this.options = options ?? {};
    this.queue = new SharedJobQueue(syncQueue, {
      name: ACTIVITY_DELIVERY_QUEUE,
      policy: 'short',
      retryLimit: 0,
      expireInHours: 2,
    });
  }

  /** Queues a delivery of the connection; null when one is already waiting (it will take the new events too). */
  enqueue(connectionId: string, options: { startAfter?: Date } = {}): Promise<string | null> {
    return this.queue.send(
      { connectionId },
      { singletonKey: connectionId, ...(options.startAfter ? { startAfter: options.startAfter } : {}) },
    );
  }

  work(handler: (job: ActivityDeliveryJob) => Promise<void>): Promise<void> {
    return this.queue.work(
      this.options.workerConcurrency ?? 2,
      this.options.pollingIntervalSeconds ?? 2,
      handler,
    );
  }

  stopWorkers(): Promise<void> {
    return this.queue.stopWorkers();
  }
}
