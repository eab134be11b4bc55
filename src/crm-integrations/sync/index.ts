export * from './sync.tokens';
export * from './sync-queue';
export * from './sync-locks';
export * from './sync-runs';
export * from './local-contact-store';
export * from './local-company-store';
export * from './rate-budget.factory';
export * from './sync-executor';
export * from './sync-scheduler';
export * from './sync-worker';
export * from './sync.service';
export * from './sync-log.service';
export * from './sync.controller';
export * from './sync-workers.module';
export * from './vault-session-provider';

import { SyncExecutor } from './sync-executor';
import { SyncLocks } from './sync-locks';
import { SyncQueue } from './sync-queue';
import { SyncRuns } from './sync-runs';
import { LocalCompanyStoreAdapter } from './local-company-store';
import { LocalContactStoreAdapter } from './local-contact-store';
import { RateBudgetFactory } from './rate-budget.factory';
import { SyncService } from './sync.service';
import { SyncLogService } from './sync-log.service';
import { vaultSessionProvider } from './vault-session-provider';

/** Providers the feature module registers (and exports, for SyncWorkersModule and hosts). */
export const SYNC_PROVIDERS = [
  SyncQueue,
  SyncLocks,
  SyncRuns,
  LocalContactStoreAdapter,
  LocalCompanyStoreAdapter,
  RateBudgetFactory,
  SyncExecutor,
  SyncService,
  SyncLogService,
  vaultSessionProvider,
];

/** What the feature module exports for SyncWorkersModule (and hosts). */
export const SYNC_EXPORTS = [SyncQueue, SyncLocks, SyncRuns, SyncExecutor, SyncService, SyncLogService];
