import { EngineFieldMappings } from '../mappings/engine-field-mappings';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { CrmConnection } from '@pm/domain';
import { INTEGRATION_PORTS, type IntegrationPortMap } from '@pm/integration-port';
import {
  targetKey,
  TargetedSyncRunner,
  type CompanyMappingSource,
  type FieldMappingSource,
  type SessionProvider,
  type TargetedSyncOutcome,
  type TargetedSyncTarget,
} from '@pm/sync-engine';
import { rateLimitedPort } from '../rate-limits/rate-limited-port';
import {
  ChangeHintRepository,
  ConnectionRepository,
  RecordLinkRepository,
  SyncCursorRepository,
  SyncLogRepository,
  SyncRetryRepository,
  SyncRunRepository,
  type PendingHint,
} from '../repositories';
import { LocalCompanyStoreAdapter } from '../sync/local-company-store';
import { LocalContactStoreAdapter } from '../sync/local-contact-store';
import { RateBudgetFactory, budgetAccountKey } from '../sync/rate-budget.factory';
import { SYNC_EXECUTOR_OPTIONS, toSyncConnection, type SyncExecutorOptions } from '../sync/sync-executor';
import { SyncLocks } from '../sync/sync-locks';
import { SyncRuns } from '../sync/sync-runs';
import { SYNC_SESSION_PROVIDER } from '../sync/sync.tokens';
import { ChangeHintQueue } from './change-hint-queue';
import { REALTIME_OPTIONS, resolveRealtimeOptions, type RealtimeOptions } from './realtime.tokens';

const WORKER_ID = `${hostname()}:${process.pid}:realtime`;

export type TargetedSyncResult = 'applied' | 'ignored' | 'busy' | 'failed' | 'nothing';

/**
 * Runs the targeted sync for a connection's waiting hints: under the connection's sync lock (a scheduled run and a
 * targeted one never overlap), as a sync run with the `webhook` trigger, spending from the rate budget's
 * interactive share. Each hint is marked applied with its lag once the record's current state is in. A failed read
 * leaves the hints waiting for the next try; a connection that is not real-time (or cannot sync) drops them, as
 * the scheduled sync reads those changes anyway.
 */
@Injectable()
export class TargetedSyncExecutor {
  private readonly logger = new Logger('TargetedSyncExecutor');
  private readonly options: ReturnType<typeof resolveRealtimeOptions>;

  constructor(
    private readonly hints: ChangeHintRepository,
    private readonly queue: ChangeHintQueue,
    private readonly connections: ConnectionRepository,
    private readonly runs: SyncRuns,
    private readonly runRepository: SyncRunRepository,
    private readonly locks: SyncLocks,
    private readonly budgets: RateBudgetFactory,
    private readonly links: RecordLinkRepository,
    private readonly cursors: SyncCursorRepository,
    private readonly retries: SyncRetryRepository,
    private readonly log: SyncLogRepository,
    private readonly locals: LocalContactStoreAdapter,
    private readonly companies: LocalCompanyStoreAdapter,
    @Optional() @Inject(REALTIME_OPTIONS) options?: RealtimeOptions,
    @Optional() @Inject(INTEGRATION_PORTS) private readonly ports?: IntegrationPortMap,
    @Optional() @Inject(SYNC_SESSION_PROVIDER) private readonly sessions?: SessionProvider,
    @Optional() @Inject(EngineFieldMappings) private readonly mappings?: FieldMappingSource,
    @Optional() @Inject(SYNC_EXECUTOR_OPTIONS) private readonly executorOptions?: SyncExecutorOptions,
    @Optional() @Inject(EngineFieldMappings) private readonly companyMappings?: CompanyMappingSource,
  ) {
    this.options = resolveRealtimeOptions(options);
  }

  /** Connections with hints still waiting (a worker starting up queues them again). */
  waitingConnections(): Promise<string[]> {
    return this.hints.connectionsWithPending();
  }

  async process(connectionId: string): Promise<TargetedSyncResult> {
    const connection = await this.connections.findById(connectionId);
    if (!connection) return 'nothing';
    const pending = await this.hints.pending(connectionId, this.options.maxHintsPerRun);
    if (pending.length === 0) return 'nothing';
    const refusal = !connection.settings.realtime
      ? 'real-time sync is off'
      : await this.runs.whyNotRunnable(connection);
    if (refusal) {
      await this.hints.markApplied(
        pending.map((hint) => hint.id),
        'ignored',
        this.options.now(),
      );
      return 'ignored';
    }
    // A lock whose database session ends (PostgreSQL restarted) stops the run after its current page.
    const locked = await this.locks.withConnectionLock(connectionId, (lockLost) =>
      this.runLocked(connection, pending, lockLost),
    );
    if (!locked.acquired) {
      await this.queue.enqueue(connectionId, this.options.busyRetryMs);
      return 'busy';
    }
    return locked.result;
  }

  private async runLocked(
    connection: CrmConnection,
    pending: PendingHint[],
    lockLost: AbortSignal,
  ): Promise<TargetedSyncResult> {
    const port = this.ports?.[connection.provider];
    if (!port || !this.sessions) return 'nothing';
    const run = await this.runRepository.createQueued(
      { id: connection.id, tenantId: connection.tenant.id },
      'webhook',
    );
    await this.runRepository.update(run.id, {
      status: 'running',
      startedAt: new Date(),
      workerId: WORKER_ID,
    });
    const budget = this.budgets.forAccount(budgetAccountKey(connection), port.capabilities().rateLimits, {
      whenDailyExhausted: 'signal',
      ...this.executorOptions?.budgetClock,
    });
    const runner = new TargetedSyncRunner({
      // A change someone just made is waiting to be seen: it goes ahead of background sync.
      port: rateLimitedPort(port, budget, 'interactive'),
      sessions: this.sessions,
      links: this.links,
      cursors: this.cursors,
      locals: this.locals,
      // Company hints apply as the scheduled sync applies companies: the tenant's stored company mapping.
      companies: this.companies,
      companyMappings: this.companyMappings,
      retries: this.retries,
      log: this.log,
      mappings: this.mappings,
      clock: this.options.now,
      options: this.executorOptions?.runner,
    });
    const outcome = await runner.runTargeted({
      connection: toSyncConnection(connection),
      runId: run.id,
      targets: targetsOf(pending),
      signal: lockLost,
    });
    await this.runRepository.update(run.id, {
      status: outcome.status,
      counts: outcome.counts,
      finishedAt: new Date(),
      error: outcome.error === undefined ? null : describe(outcome.error),
    });
    if (outcome.status === 'failed' || outcome.status === 'cancelled') {
      this.logger.warn(`Targeted sync of connection ${connection.id} failed: ${describe(outcome.error)}`);
      await this.queue.enqueue(connection.id, outcome.retryAfterMs ?? this.options.failureRetryMs);
      return 'failed';
    }
    await this.markApplied(pending, outcome);
    await this.hints.purgeApplied(
      connection.id,
      new Date(this.options.now().getTime() - this.options.keepAppliedMs),
    );
    if (pending.length >= this.options.maxHintsPerRun) await this.queue.enqueue(connection.id, 0);
    return 'applied';
  }

  private async markApplied(pending: PendingHint[], outcome: TargetedSyncOutcome): Promise<void> {
    const at = this.options.now();
    const byState = new Map<string, string[]>();
    for (const hint of pending) {
      const state = outcome.records.get(targetKey(hint.object, hint.crmId)) ?? 'ignored';
      byState.set(state, [...(byState.get(state) ?? []), hint.id]);
    }
    for (const [state, ids] of byState) await this.hints.markApplied(ids, state, at);
  }
}

/** One target per object, each record once however many hints named it. */
function targetsOf(pending: PendingHint[]): TargetedSyncTarget[] {
  const byObject = new Map<string, Set<string>>();
  for (const hint of pending) {
    const ids = byObject.get(hint.object) ?? new Set<string>();
    ids.add(hint.crmId);
    byObject.set(hint.object, ids);
  }
  return [...byObject].map(([object, ids]) => ({ object, crmIds: [...ids] }));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
