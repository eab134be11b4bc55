import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { ActivityDeliveryService } from '../activities/activity-delivery.service';
import { SyncExecutor } from './sync-executor';
import { SyncQueue } from './sync-queue';

/** Takes contact sync jobs from the queue in this process (`npm start` with RUN_WORKERS, or `npm run worker`). */
@Injectable()
export class SyncWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('SyncWorker');

  constructor(
    private readonly queue: SyncQueue,
    private readonly executor: SyncExecutor,
    @Optional() private readonly activities?: ActivityDeliveryService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.work(async (job) => {
      try {
        await this.executor.execute(job);
        // A contact the run linked may release held activities; refused ones are tried again.
        await this.activities?.requestAfterSync(job.connectionId);
      } catch (error) {
        // The run could not even be recorded (database down): the job fails and the scheduler tries again later.
        this.logger.error(
          `Sync job for ${job.connectionId} failed: ${error instanceof Error ? error.stack : error}`,
        );
        throw error;
      }
    });
    this.logger.log('Contact sync worker started');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.stopWorkers();
  }
}
