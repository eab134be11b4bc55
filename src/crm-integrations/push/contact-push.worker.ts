import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ContactPushExecutor } from './contact-push.executor';
import { ContactPushQueue } from './contact-push.queue';

/** Works the immediate-push queue in a worker process: each fetch of due jobs becomes one push per connection. */
@Injectable()
export class ContactPushWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ContactPushWorker');

  constructor(
    private readonly queue: ContactPushQueue,
    private readonly executor: ContactPushExecutor,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.work(async (jobs) => {
      await this.executor.handle(jobs);
    });
    this.logger.log('Immediate push worker started');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.stopWorkers().catch(() => undefined);
  }
}
