import { Inject, Injectable, Optional } from '@nestjs/common';
import type PgBoss from 'pg-boss';
import { SharedJobQueue } from '../jobs/shared-job-queue';
import { SyncQueue } from '../sync/sync-queue';
import {
  CONTACT_PUSH_OPTIONS,
  CONTACT_PUSH_QUEUE,
  DEFAULT_CONTACT_PUSH_OPTIONS,
  type ContactPushJob,
  type ContactPushOptions,
} from './contact-push.tokens';

/**
 * The immediate-push queue, on the sync queue's pg-boss. Each changed contact is one job keyed by (connection,
 * contact) under pg-boss's `short` policy: while one waits, further edits of that contact add nothing (the job
 * reads the contact's state when it runs), which is the per-record debounce. Workers fetch many jobs at once and
 * push them per connection in batches.
 */
@Injectable()
export class ContactPushQueue {
  readonly options: Required<ContactPushOptions>;
  private readonly queue: SharedJobQueue<ContactPushJob>;

  constructor(syncQueue: SyncQueue, @Optional() @Inject(CONTACT_PUSH_OPTIONS) options?: ContactPushOptions) {
    this.options = { ...DEFAULT_CONTACT_PUSH_OPTIONS, ...options };
    this.queue = new SharedJobQueue(syncQueue, {
      name: CONTACT_PUSH_QUEUE,
      policy: 'short',
      retryLimit: 2,
      expireInSeconds: 900,
    });
  }

  /** pg-boss with the push queue created. */
  boss(): Promise<PgBoss> {
    return this.queue.boss();
  }

  /** Queues the contacts' pushes to start after the debounce (or `delayMs`); a contact already waiting is not added twice. */
  async enqueue(jobs: ContactPushJob[], delayMs = this.options.debounceMs): Promise<void> {
    if (jobs.length === 0) return;
    const boss = await this.boss();
    const startAfter = new Date(Date.now() + delayMs);
    for (const job of jobs) {
      await boss.send(
        CONTACT_PUSH_QUEUE,
        { ...job },
        { singletonKey: `${job.connectionId}:${job.contactId}`, startAfter },
      );
    }
  }

  /** Jobs whose connection was busy (a sync held its lock), back in the queue for a little later. */
  handBack(jobs: ContactPushJob[]): Promise<void> {
    return this.enqueue(jobs, this.options.busyRetryMs);
  }

  /** Takes the jobs that are due (for a worker loop, or a test that triggers the push). */
  async fetchDue(): Promise<PgBoss.Job<ContactPushJob>[]> {
    const boss = await this.boss();
    return (
      (await boss.fetch<ContactPushJob>(CONTACT_PUSH_QUEUE, { batchSize: this.options.batchSize })) ?? []
    );
  }

  async complete(ids: string[]): Promise<void> {
    if (ids.length > 0) await (await this.boss()).complete(CONTACT_PUSH_QUEUE, ids);
  }

  async work(handler: (jobs: ContactPushJob[]) => Promise<void>): Promise<string> {
    const boss = await this.boss();
    return boss.work<ContactPushJob>(
      CONTACT_PUSH_QUEUE,
      { batchSize: this.options.batchSize, pollingIntervalSeconds: this.options.pollingIntervalSeconds },
      async (jobs) => handler(jobs.map((job) => job.data)),
    );
  }

  stopWorkers(): Promise<void> {
    return this.queue.stopWorkers();
  }
}
