import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { WebhookQueue } from './webhook-queue';

/** Takes webhook jobs in this process, next to the sync workers, and books each tenant's next retry. */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WebhookDeliveryWorker');

  constructor(
    private readonly queue: WebhookQueue,
    private readonly delivery: WebhookDeliveryService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.work(async ({ tenantId }) => {
      const result = await this.delivery.run(tenantId);
      if (result.nextAttemptAt) await this.queue.enqueue(tenantId, { startAfter: result.nextAttemptAt });
    });
    this.logger.log('Webhook delivery worker started');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.stopWorkers();
  }
}
