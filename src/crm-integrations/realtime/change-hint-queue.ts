import { Inject, Injectable, Optional } from '@nestjs/common';
import { SharedJobQueue } from '../jobs/shared-job-queue';
import { SyncQueue, type SyncQueueOptions } from '../sync/sync-queue';
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
export class ChangeHintQueue {
  private readonly queue: SharedJobQueue<ChangeHintJob>;
  private readonly options: SyncQueueOptions;

  constructor(syncQueue: SyncQueue, @Optional() @Inject(SYNC_QUEUE_OPTIONS) options?: SyncQueueOptions) {
    this.options = options ?? {};
    this.queue = new SharedJobQueue(syncQueue, {
      name: CHANGE_HINT_QUEUE,
      policy: 'short',
      retryLimit: 0,
      expireInHours: 1,
    });
  }

  /**
   * Queues a targeted sync of the connection in `delayMs` (whole seconds, by the database's clock); null when one
   * is already waiting (it takes the new hints too).
   */
  enqueue(connectionId: string, delayMs: number): Promise<string | null> {
    const seconds = Math.max(0, Math.ceil(delayMs / 1000));
    return this.queue.send(
      { connectionId },
      { singletonKey: connectionId, ...(seconds > 0 ? { startAfter: seconds } : {}) },
    );
  }

  work(handler: (job: ChangeHintJob) => Promise<void>): Promise<void> {
    return this.queue.work(
      this.options.workerConcurrency ?? 2,
      this.options.pollingIntervalSeconds ?? 1,
      handler,
    );
  }

  stopWorkers(): Promise<void> {
    return this.queue.stopWorkers();
  }
}
