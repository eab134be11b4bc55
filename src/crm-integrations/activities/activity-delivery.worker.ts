import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ActivityDeliveryService, type DeliveryOutcome } from './activity-delivery.service';
import { ActivityQueue } from './activity-queue';

/** A delivery busy on another worker comes back after this long. */
const BUSY_RETRY_MS = 5_000;
/** The shortest pause after an interrupted delivery (a rate limit without Retry-After, an outage). */
const MIN_INTERRUPTED_RETRY_MS = 30_000;

/** Takes activity delivery jobs in this process, next to the sync workers. */
@Injectable()
export class ActivityDeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ActivityDeliveryWorker');

  constructor(
    private readonly queue: ActivityQueue,
    private readonly delivery: ActivityDeliveryService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.work(async ({ connectionId }) => {
      const outcome = await this.delivery.deliver(connectionId);
      const next = nextDelivery(outcome);
      if (next !== undefined)
        await this.queue.enqueue(connectionId, { startAfter: new Date(Date.now() + next) });
    });
    this.logger.log('Activity delivery worker started');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.stopWorkers();
  }
}

/** When the connection's next delivery should run after this one, if the job itself asks for one. */
export function nextDelivery(outcome: DeliveryOutcome): number | undefined {
  switch (outcome.status) {
    case 'busy':
      return BUSY_RETRY_MS;
    case 'done':
      return outcome.more ? 0 : undefined;
    case 'interrupted':
      // Refused credentials wait for the reconnect; its sync run asks for a delivery.
      return outcome.needsReconnect ? undefined : Math.max(outcome.retryAfterMs, MIN_INTERRUPTED_RETRY_MS);
    default:
      return undefined;
  }
}
