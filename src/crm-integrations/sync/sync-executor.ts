import { hostname } from 'node:os';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { CrmConnection, SyncRunStatus } from '@pm/domain';
import { CrmError, INTEGRATION_PORTS, type IntegrationPortMap } from '@pm/integration-port';
import {
  ContactSyncRunner,
  nextHealth,
  ReconcileRunner,
  type ReconcileOutcome,
  nextSyncDue,
  type ContactSyncOutcome,
  type ContactSyncRunnerOptions,
  type CompanyMappingSource,
  type FieldMappingSource,
  type HealthEvent,
  type SessionProvider,
  type SyncConnection,
} from '@pm/sync-engine';
import type { PgRateBudgetOptions } from '../rate-limits/pg-rate-budget';
import { rateLimitedPort } from '../rate-limits/rate-limited-port';
import {
  ConnectionRepository,
  RecordLinkRepository,
  SyncCursorRepository,
  SyncLogRepository,
  SyncRetryRepository,
  SyncRunRepository,
  type ConnectionStatusLine,
  type ConnectionSyncChanges,
} from '../repositories';
import { EngineFieldMappings } from '../mappings/engine-field-mappings';
import { LocalCompanyStoreAdapter } from './local-company-store';
import { LocalContactStoreAdapter } from './local-contact-store';
import { RateBudgetFactory, budgetAccountKey } from './rate-budget.factory';
import { SyncLocks } from './sync-locks';
import { SyncQueue } from './sync-queue';
import { queueSlot, SyncRuns, TRANSIENT_ERROR_PREFIX } from './sync-runs';
import { SYNC_SESSION_PROVIDER, type ContactSyncJob } from './sync.tokens';

/** DI token for `SyncExecutorOptions`. */
export const SYNC_EXECUTOR_OPTIONS = Symbol('SYNC_EXECUTOR_OPTIONS');

export { SYNC_FIELD_MAPPINGS } from '../mappings/engine-field-mappings';

export interface SyncExecutorOptions {
  runner?: ContactSyncRunnerOptions;
  /** How often a running sync checks that its connection is still enabled. */
  enabledCheckMs?: number;
  /** When a connection is busy on another worker, its job comes back after this long. */
  busyRetryMs?: number;
  /** The rate budget's time source (tests move it instead of waiting). */
  budgetClock?: Pick<PgRateBudgetOptions, 'now' | 'sleep'>;
}

export type ExecuteResult = 'ran' | 'busy' | 'skipped';

const WORKER_ID = `${hostname()}:${process.pid}`;

/** How long a connection whose credentials were refused waits before a scheduled retry. */
const AUTH_RETRY_MS = 3_600_000;

const STOPPED_FOR_SHUTDOWN = 'Stopped: the worker is shutting down';

function nextUtcMidnight(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

/**
 * Runs one queued contact sync job: takes the connection's lock (or hands the job back if another worker holds it),
 * checks the connection may sync, runs the engine, then records the run, the connection's health and when it is
 * next due. A connection disabled mid-run stops after the page in flight.
 */
@Injectable()
export class SyncExecutor implements BeforeApplicationShutdown {
  private readonly logger = new Logger('SyncExecutor');
  /** Runs in flight in this process, stopped (after their page) when the process shuts down. */
  private readonly inFlight = new Set<AbortController>();
  /** Set once the process began shutting down. */
  private stopping = false;
  private readonly options: Required<Omit<SyncExecutorOptions, 'runner' | 'budgetClock'>> &
    Pick<SyncExecutorOptions, 'runner' | 'budgetClock'>;

  constructor(
    private readonly runs: SyncRuns,
    private readonly runRepository: SyncRunRepository,
    private readonly connections: ConnectionRepository,
    private readonly locks: SyncLocks,
    private readonly queue: SyncQueue,
    private readonly budgets: RateBudgetFactory,
    private readonly links: RecordLinkRepository,
    private readonly cursors: SyncCursorRepository,
    private readonly retries: SyncRetryRepository,
    private readonly log: SyncLogRepository,
    private readonly locals: LocalContactStoreAdapter,
    private readonly companies: LocalCompanyStoreAdapter,
    @Optional() @Inject(INTEGRATION_PORTS) private readonly ports?: IntegrationPortMap,
    @Optional() @Inject(SYNC_SESSION_PROVIDER) private readonly sessions?: SessionProvider,
    /** The mappings every engine run reads (a host's override, else the tenant's stored ones). */
    @Optional() @Inject(EngineFieldMappings) private readonly mappings?: FieldMappingSource,
    @Optional() @Inject(SYNC_EXECUTOR_OPTIONS) options?: SyncExecutorOptions,
    @Optional() @Inject(EngineFieldMappings) private readonly companyMappings?: CompanyMappingSource,
  ) {
    this.options = { enabledCheckMs: 5_000, busyRetryMs: 15_000, ...options };
  }

  async execute(job: ContactSyncJob): Promise<ExecuteResult> {
    const locked = await this.locks.withConnectionLock(job.connectionId, (lockLost) =>
      this.executeLocked(job, lockLost),
    );
    if (locked.acquired) return locked.result;
    // Another worker is syncing this connection: come back later, as the one follow-up — if this job's run is
    // still waiting (a job whose run was settled elsewhere has nothing left to do).
    const run = await this.runRepository.findById(job.runId);
    if (run?.status !== 'queued') return 'busy';
    const requeued = await this.queue.enqueue(job, {
      startAfter: new Date(Date.now() + this.options.busyRetryMs),
      singletonKey: queueSlot(job.connectionId, run.trigger),
    });
    if (!requeued) {
      await this.finishRun(job.runId, 'cancelled', 'another run of this connection was already queued');
    }
    return 'busy';
  }

  private async executeLocked(job: ContactSyncJob, lockLost?: AbortSignal): Promise<ExecuteResult> {
    const connection = await this.connections.findById(job.connectionId);
    if (!connection) {
      // Removed while queued: its runs went with it (cascade), so there is nothing to record.
      return 'skipped';
    }
    const refusal = await this.runs.whyNotRunnable(connection);
    if (refusal) {
      await this.runRepository.saveForJob(job, {
        status: 'cancelled',
        finishedAt: new Date(),
        error: `Not run: ${refusal}`,
      });
      return 'skipped';
    }
    const port = this.ports?.[connection.provider];
    const startedAt = new Date();
    const run = await this.runRepository.saveForJob(job, {
      status: 'running',
      startedAt,
      workerId: WORKER_ID,
    });
    if (!port || !this.sessions) {
      await this.runRepository.update(run.id, {
        status: 'failed',
        finishedAt: new Date(),
        error: !port
          ? `No connector is installed for provider "${connection.provider}"`
          : 'No session provider is configured (the token vault binds SYNC_SESSION_PROVIDER)',
      });
      return 'ran';
    }

    const abort = new AbortController();
    // A job fetched while the process was already shutting down stops at once too (its run resumes from the cursor).
    if (this.stopping) abort.abort(new Error(STOPPED_FOR_SHUTDOWN));
    this.inFlight.add(abort);
    // Without its lock the run may overlap another worker's: it stops after the page in flight (cursor saved).
    const onLockLost = () =>
      abort.abort(new Error(`Stopped: ${String((lockLost?.reason as Error)?.message)}`));
    lockLost?.addEventListener('abort', onLockLost, { once: true });
    // A lock already lost (its session ended, or the process began to stop) fires no event any more.
    if (lockLost?.aborted) onLockLost();
    const watcher = setInterval(() => {
      this.stillRunnable(connection.id).then(
        (reason) => {
          if (reason) abort.abort(new Error(`Stopped: ${reason}`));
        },
        // The database did not answer this time; the next check asks again.
        () => undefined,
      );
    }, this.options.enabledCheckMs);
    watcher.unref();
    let outcome: ContactSyncOutcome | ReconcileOutcome;
    try {
      // Every call of the run spends from the CRM account's one budget, shared with other workers and with
      // activity delivery; a user's "Sync now" goes ahead of scheduled background work.
      const budget = this.budgets.forAccount(
        budgetAccountKey(connection),
        port.capabilities().rateLimits,
        // A used-up daily allocation stops the run with QUOTA_EXHAUSTED, which pauses the connection until the
        // allocation refills (instead of holding a worker for hours); nothing is lost, the cursor resumes.
        { whenDailyExhausted: 'signal', ...this.options.budgetClock },
      );
      const deps = {
        // The run's signal reaches every budget wait and CRM call (the sessions the engine passes carry none).
        port: rateLimitedPort(port, budget, run.trigger === 'manual' ? 'interactive' : 'background', {
          signal: abort.signal,
        }),
        sessions: this.sessions,
        links: this.links,
        cursors: this.cursors,
        locals: this.locals,
        companies: this.companies,
        retries: this.retries,
        log: this.log,
        mappings: this.mappings,
        // Companies read the tenant's stored company mapping as contacts do (seeded from the connector's defaults).
        companyMappings: this.companyMappings,
        options: this.options.runner,
      };
      // A reconcile runs under the same lock, budget and bookkeeping as a sync; only the engine's pass differs.
      const runner = run.trigger === 'reconcile' ? new ReconcileRunner(deps) : new ContactSyncRunner(deps);
      outcome = await runner.run({
        connection: toSyncConnection(connection),
        runId: run.id,
        signal: abort.signal,
      });
    } finally {
      clearInterval(watcher);
      lockLost?.removeEventListener('abort', onLockLost);
      this.inFlight.delete(abort);
    }
    await this.record(job, connection.id, startedAt, outcome);
    return 'ran';
  }

  /** A worker shutting down lets each run finish its page (cursor saved) and stop; the next run resumes there. */
  beforeApplicationShutdown(): void {
    this.stopping = true;
    for (const abort of this.inFlight) abort.abort(new Error(STOPPED_FOR_SHUTDOWN));
  }

  private async stillRunnable(connectionId: string): Promise<string | null> {
    const connection = await this.connections.findById(connectionId);
    return connection ? this.runs.whyNotRunnable(connection) : 'the connection was removed';
  }

  /** Writes the run's result, the connection's health and when it is next due. */
  private async record(
    job: ContactSyncJob,
    connectionId: string,
    startedAt: Date,
    outcome: ContactSyncOutcome | ReconcileOutcome,
  ): Promise<void> {
    const now = new Date();
    const streakBefore = await this.runs.transientFailureStreak(connectionId);
    const connection = await this.connections.findById(connectionId);
    if (!connection) throw new Error(`Connection "${connectionId}" was removed during its sync`);
    const failureText = describeFailure(outcome);
    const transient = outcome.failure === 'transient' || outcome.failure === 'fatal';
    const changes: ConnectionSyncChanges = {};
    let statusLine: ConnectionStatusLine | undefined;

    let event: HealthEvent | undefined;
    if (outcome.status === 'succeeded' || outcome.status === 'partial') event = { kind: 'run_succeeded' };
    else if (outcome.failure === 'quota') {
      event = {
        kind: 'quota_exhausted',
        reason: failureText ?? 'quota exhausted',
        resumeAt: outcome.retryAfterMs
          ? new Date(now.getTime() + outcome.retryAfterMs)
          : nextUtcMidnight(now),
      };
    } else if (outcome.failure === 'auth_revoked') {
      event = { kind: 'auth_revoked', reason: failureText ?? 'credentials revoked' };
    } else if (transient) {
      event = { kind: 'transient_failure', consecutive: streakBefore + 1, reason: failureText ?? 'failed' };
    }

    let pausedUntil: Date | null | undefined;
    if (event) {
      const transition = nextHealth(connection.health, event);
      pausedUntil = transition.to === 'paused' ? (transition.resumeAt ?? null) : undefined;
      if (
        transition.changed ||
        (transition.to !== 'healthy' && connection.healthReason !== transition.reason)
      ) {
        changes.health = transition.to;
        changes.healthReason = transition.reason;
      }
      if (transition.changed) {
        statusLine = {
          message:
            transition.to === 'healthy'
              ? `Connection healthy again (was ${transition.from})`
              : `Connection ${transition.to}: ${transition.reason ?? ''}`.trim(),
          details: { from: transition.from, to: transition.to, resumeAt: transition.resumeAt ?? null },
        };
      }
    }
    const reconcile = 'drift' in outcome;
    if ((outcome.status === 'succeeded' || outcome.status === 'partial') && !reconcile) {
      changes.lastSyncAt = startedAt;
    }
    // Revoked or refused credentials: the vault moves the connection to needs_reconnect; should it stay connected
    // (a permission the user may grant), try again only slowly rather than every tick.
    // A reconcile keeps the sync schedule as it was, unless a failure must hold the connection back.
    if (reconcile && outcome.status !== 'failed') {
      // A reconcile that did not fail leaves the sync schedule as it was.
    } else if (outcome.failure === 'auth_revoked')
      changes.nextSyncAt = new Date(now.getTime() + AUTH_RETRY_MS);
    else if (pausedUntil) changes.nextSyncAt = pausedUntil;
    else if (transient && outcome.retryAfterMs)
      changes.nextSyncAt = new Date(now.getTime() + outcome.retryAfterMs);
    else if (transient)
      changes.nextSyncAt = new Date(now.getTime() + Math.min(60_000 * 2 ** streakBefore, 3_600_000));
    else {
      changes.nextSyncAt = nextSyncDue({
        frequency: connection.settings.frequency,
        lastSyncAt: changes.lastSyncAt ?? connection.lastSyncAt ?? null,
        now,
      });
    }
    await this.runRepository.recordOutcome({
      runId: job.runId,
      run: {
        status: outcome.status,
        counts: outcome.counts,
        ...('drift' in outcome ? { drift: outcome.drift } : {}),
        finishedAt: now,
        error: failureText === null ? null : `${transient ? TRANSIENT_ERROR_PREFIX : ''}${failureText}`,
      },
      connectionId,
      connection: changes,
      statusLine,
    });
    if (outcome.status === 'failed') {
      this.logger.warn(`Sync of connection ${connectionId} failed (${outcome.failure}): ${failureText}`);
    }
  }

  private async finishRun(runId: string, status: SyncRunStatus, error: string): Promise<void> {
    await this.runRepository.update(runId, { status, error, finishedAt: new Date() });
  }
}

/** The run's error in words: a stopped run says why it was stopped; a CRM error keeps its code. */
function describeFailure(outcome: ContactSyncOutcome): string | null {
  const error = outcome.error;
  if (error === undefined) return null;
  if (outcome.status === 'cancelled' && error instanceof Error && error.cause instanceof Error) {
    return error.cause.message;
  }
  if (error instanceof CrmError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

export function toSyncConnection(connection: CrmConnection): SyncConnection {
  return {
    id: connection.id,
    tenantId: connection.tenant.id,
    provider: connection.provider,
    settings: { ...connection.settings },
    health: connection.health,
  };
}
