import { Injectable } from '@nestjs/common';
import type { CrmConnection, SyncRun, SyncTrigger } from '@pm/domain';
import { ProviderAccessService } from '../connectors/provider-access.service';
import { ConnectionRepository, SyncRunRepository, TenantRepository } from '../repositories';
import { SyncQueue } from './sync-queue';

/** A failure's kind is kept as the error's prefix ("transient: RATE_LIMITED: …"), so health can count a streak. */
export const TRANSIENT_ERROR_PREFIX = 'transient: ';

/** The queue slot a run waits in: a reconcile has its own beside the connection's sync. */
export const queueSlot = (connectionId: string, trigger: SyncTrigger): string =>
  trigger === 'reconcile' ? `${connectionId}:reconcile` : connectionId;

/** The queue expires jobs after 6 hours; a `queued` run older than that lost its job. */
const QUEUED_RUN_STALE_MS = 6 * 3_600_000;

/** How many finished runs a transient-failure streak is counted over. */
const STREAK_WINDOW = 20;

/** Queuing sync runs, and the facts scheduling needs: whether a connection may run, its failure streak. */
@Injectable()
export class SyncRuns {
  constructor(
    private readonly runs: SyncRunRepository,
    private readonly tenants: TenantRepository,
    private readonly connections: ConnectionRepository,
    private readonly access: ProviderAccessService,
    private readonly queue: SyncQueue,
  ) {}

  /**
   * Queues a run of the connection, recorded as a `queued` SyncRun. When a run is already waiting for this
   * connection, nothing new is queued and that run is returned (`queued: false`).
   */
  async request(
    connection: { id: string; tenantId: string },
    trigger: SyncTrigger,
    options: { startAfter?: Date; priority?: number } = {},
  ): Promise<{ run: SyncRun; queued: boolean }> {
    // A run waiting for this connection is the follow-up; its row stays `queued` until a worker starts it, also
    // while its job is handed back because the connection is busy on another worker.
    const reconcile = trigger === 'reconcile';
    const waiting = await this.waitingRun(connection.id, reconcile);
    if (waiting) return { run: waiting, queued: false };
    const run = await this.runs.createQueued(connection, trigger);
    const jobId = await this.queue.enqueue(
      { connectionId: connection.id, tenantId: connection.tenantId, runId: run.id },
      { ...options, singletonKey: queueSlot(connection.id, trigger) },
    );
    if (jobId) return { run, queued: true };
    // Another request queued one at the same instant (the queue keeps one waiting job per connection).
    await this.runs.delete(run.id);
    return { run: (await this.waitingRun(connection.id, reconcile)) ?? run, queued: false };
  }

  /** The queued run of the connection, if any; older than the queue's job expiry, it is stale and ignored. */
  private waitingRun(connectionId: string, reconcile: boolean): Promise<SyncRun | null> {
    return this.runs.findQueued(connectionId, new Date(Date.now() - QUEUED_RUN_STALE_MS), { reconcile });
  }

  /** Failed runs in a row, most recent first, whose failure was transient (for the health machine). */
  async transientFailureStreak(connectionId: string): Promise<number> {
    const recent = await this.runs.recentFinished(connectionId, STREAK_WINDOW);
    let streak = 0;
    for (const run of recent) {
      if (run.status !== 'failed' || !run.error?.startsWith(TRANSIENT_ERROR_PREFIX)) break;
      streak++;
    }
    return streak;
  }

  /** Connected connections the scheduler should look at at `now` (each still checked for its frequency). */
  schedulable(now: Date): Promise<CrmConnection[]> {
    return this.connections.findSchedulable(now);
  }

  /** When each connection is next due (the scheduler's mark until its run sets the real time). */
  setNextSyncAt(due: { id: string; at: Date }[]): Promise<void> {
    return this.connections.setNextSyncAt(due);
  }

  /** Why the connection may not sync now, or null when it may. */
  async whyNotRunnable(connection: CrmConnection): Promise<string | null> {
    if (connection.status !== 'connected') return `the connection is ${connection.status}`;
    if (!(await this.tenants.isActive(connection.tenant.id))) return 'the tenant is inactive';
    if (!(await this.access.isEnabled(connection.provider, connection.tenant.id))) {
      return `${connection.provider} is disabled by an administrator`;
    }
    return null;
  }
  /** Every run marked running, with its connection (candidates for the orphaned-run check). */
  findRunning(): Promise<{ id: string; connectionId: string }[]> {
    return this.runs.findRunning();
  }

  /** Ends a still-running run whose worker is gone as failed, and makes its connection due at once. */
  failOrphaned(runId: string, connectionId: string, reason: string): Promise<boolean> {
    return this.runs.failOrphaned(runId, connectionId, reason);
  }
}
