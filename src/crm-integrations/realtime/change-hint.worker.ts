import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ChangeHintQueue } from './change-hint-queue';
import { TargetedSyncExecutor } from './targeted-sync.executor';

/**
 * Takes targeted sync jobs in this process, next to the sync workers. On start it queues every connection that
 * still has hints waiting: a hint is a row before it is a job, so one stored just before a crash (its job lost or
 * never sent) is still applied.
 */
@Injectable()
export class ChangeHintWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ChangeHintWorker');

  constructor(
    private readonly queue: ChangeHintQueue,
    private readonly executor: TargetedSyncExecutor,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.work(async ({ connectionId }) => {
      await this.executor.process(connectionId);
    });
    for (const connectionId of await this.executor.waitingConnections()) {
      await this.queue.enqueue(connectionId, 0);
    }
    this.logger.log('Change hint worker started');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.stopWorkers();
  }
}
