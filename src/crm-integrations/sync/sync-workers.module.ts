import { Module, type DynamicModule } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { ActivityDeliveryWorker } from '../activities/activity-delivery.worker';
import { ChangeHintWorker } from '../realtime/change-hint.worker';
import { WebhookDeliveryWorker } from '../webhooks/webhook-delivery.worker';
import { ContactPushWorker } from '../push/contact-push.worker';
import { RECONCILE_SCHEDULER_ENABLED, ReconcileScheduler } from '../reconcile/reconcile-scheduler';
import { RETENTION_ENABLED, RetentionService } from '../retention/retention.service';
import { SYNC_SCHEDULER_ENABLED, SyncScheduler } from './sync-scheduler';
import { SyncRunReaper } from './sync-run-reaper';
import { SyncWorker } from './sync-worker';

export interface SyncWorkersOptions {
  /** Run the @nestjs/schedule tick in this process (default true). */
  scheduler?: boolean;
}

/**
 * The sync workers and the scheduler tick, for a process that should run jobs: `npm start` when RUN_WORKERS is
 * true, and `npm run worker`. It relies on the global `CrmIntegrationsModule` for the queue, stores and executor.
 */
@Module({})
export class SyncWorkersModule {
  static forRoot(options: SyncWorkersOptions = {}): DynamicModule {
    return {
      module: SyncWorkersModule,
      imports: [ScheduleModule.forRoot()],
      providers: [
        { provide: SYNC_SCHEDULER_ENABLED, useValue: options.scheduler ?? true },
        SyncScheduler,
        { provide: RECONCILE_SCHEDULER_ENABLED, useValue: options.scheduler ?? true },
        ReconcileScheduler,
        { provide: RETENTION_ENABLED, useValue: options.scheduler ?? true },
        RetentionService,
        SyncWorker,
        ContactPushWorker,
        ActivityDeliveryWorker,
        WebhookDeliveryWorker,
        ChangeHintWorker,
        SyncRunReaper,
      ],
    };
  }
}
