import { Injectable } from '@nestjs/common';
import {
  CrmConnection,
  SyncLogEntry,
  SyncRun,
  Tenant,
  type CrmConnection as Connection,
  type SyncTrigger,
} from '@pm/domain';
import { CrmRepository } from './base.repository';

export type SyncRunChanges = Partial<
  Pick<SyncRun, 'status' | 'startedAt' | 'finishedAt' | 'workerId' | 'error' | 'counts' | 'drift'>
>;

export type ConnectionSyncChanges = Partial<
  Pick<Connection, 'health' | 'healthReason' | 'lastSyncAt' | 'nextSyncAt'>
>;

/** A line about the connection itself (its health changed), written with the run's result. */
export interface ConnectionStatusLine {
  message: string;
  details: Record<string, unknown>;
}

/** Sync runs. Called from workers and the scheduler as well as from requests: every method forks. */
@Injectable()
export class SyncRunRepository extends CrmRepository {
  async createQueued(connection: { id: string; tenantId: string }, trigger: SyncTrigger): Promise<SyncRun> {
    const em = this.fork();
    const run = em.create(SyncRun, {
      tenant: em.getReference(Tenant, connection.tenantId),
      connection: em.getReference(CrmConnection, connection.id),
      trigger,
      status: 'queued',
    });
    await em.flush();
    return run;
  }

  async delete(runId: string): Promise<void> {
    await this.fork().nativeDelete(SyncRun, { id: runId });
  }

  findById(runId: string): Promise<SyncRun | null> {
    return this.fork().findOne(SyncRun, { id: runId });
  }

  /**
   * The newest `queued` run of the connection queued after `queuedAfter`: of its reconciles with `reconcile`, else
   * of its syncs (each waits in its own queue slot, so a waiting reconcile is never taken for a sync's follow-up).
   */
  findQueued(
    connectionId: string,
    queuedAfter: Date,
    options: { reconcile?: boolean } = {},
  ): Promise<SyncRun | null> {
    return this.fork().findOne(
      SyncRun,
      {
        connection: connectionId,
        status: 'queued',
        queuedAt: { $gt: queuedAfter },
        trigger: options.reconcile ? 'reconcile' : { $ne: 'reconcile' },
      },
      { orderBy: { queuedAt: 'desc' } },
    );
  }

  /** The connection's reconcile runs, newest first. */
  listReconciles(connectionId: string, limit: number): Promise<SyncRun[]> {
    return this.fork().find(
      SyncRun,
      { connection: connectionId, trigger: 'reconcile' },
      { orderBy: { queuedAt: 'desc' }, limit },
    );
  }

  /** Of these connections, those with no reconcile queued after `since` (due for their periodic one). */
  async withoutReconcileSince(connectionIds: string[], since: Date): Promise<string[]> {
    if (connectionIds.length === 0) return [];
    const recent = await this.fork().find(
      SyncRun,
      { connection: { $in: connectionIds }, trigger: 'reconcile', queuedAt: { $gt: since } },
      { fields: ['connection'] },
    );
    const done = new Set(recent.map((run) => run.connection.id));
    return connectionIds.filter((id) => !done.has(id));
  }

  /** The connection's finished runs, most recently finished first (status and error only). */
  recentFinished(connectionId: string, limit: number): Promise<Pick<SyncRun, 'status' | 'error'>[]> {
    return this.fork().find(
      SyncRun,
      { connection: connectionId, finishedAt: { $ne: null } },
      { orderBy: { finishedAt: 'desc' }, limit, fields: ['status', 'error'] },
    );
  }

  listForConnection(connectionId: string, limit: number): Promise<SyncRun[]> {
    return this.fork().find(SyncRun, { connection: connectionId }, { orderBy: { queuedAt: 'desc' }, limit });
  }

  /** Applies `changes` to the job's run, creating it (as scheduled) when its row is missing. */
  async saveForJob(
    job: { runId: string; tenantId: string; connectionId: string },
    changes: SyncRunChanges,
  ): Promise<SyncRun> {
    const em = this.fork();
    const run =
      (await em.findOne(SyncRun, { id: job.runId })) ??
      em.create(SyncRun, {
        id: job.runId,
        tenant: job.tenantId,
        connection: job.connectionId,
        trigger: 'scheduled',
      });
    Object.assign(run, changes);
    await em.flush();
    return run;
  }

  /** Applies `changes` to the run; false when it no longer exists. */
  async update(runId: string, changes: SyncRunChanges): Promise<boolean> {
    const em = this.fork();
    const run = await em.findOne(SyncRun, { id: runId });
    if (!run) return false;
    Object.assign(run, changes);
    await em.flush();
    return true;
  }

  /** A run's result, its connection's health and schedule, and the status line if any: all or nothing. */
  async recordOutcome(outcome: {
    runId: string;
    run: SyncRunChanges;
    connectionId: string;
    connection: ConnectionSyncChanges;
    statusLine?: ConnectionStatusLine;
  }): Promise<void> {
    const em = this.fork();
    const connection = await em.findOneOrFail(CrmConnection, { id: outcome.connectionId });
    const run = await em.findOneOrFail(SyncRun, { id: outcome.runId });
    Object.assign(run, outcome.run);
    Object.assign(connection, outcome.connection);
    if (outcome.statusLine) {
      em.create(SyncLogEntry, {
        tenant: connection.tenant,
        connection,
        run,
        direction: 'none',
        object: 'connection',
        action: 'status_changed',
        message: outcome.statusLine.message,
        details: outcome.statusLine.details,
      });
    }
    await em.flush();
  }
  /** Every run marked running, with its connection (candidates for the orphaned-run check). */
  async findRunning(): Promise<{ id: string; connectionId: string }[]> {
    const runs = await this.fork().find(SyncRun, { status: 'running' }, { fields: ['id', 'connection'] });
    return runs.map((run) => ({ id: run.id, connectionId: run.connection.id }));
  }

  /**
   * Ends a run that is still running as failed with `reason` and makes its connection due at once; false when the
   * run had already ended. The caller holds the connection's lock, so no worker can be running it.
   */
  async failOrphaned(runId: string, connectionId: string, reason: string): Promise<boolean> {
    const em = this.fork();
    const run = await em.findOne(SyncRun, { id: runId, status: 'running' });
    if (!run) return false;
    Object.assign(run, { status: 'failed', finishedAt: new Date(), error: reason });
    const connection = await em.findOne(CrmConnection, { id: connectionId });
    if (connection) connection.nextSyncAt = new Date();
    await em.flush();
    return true;
  }
}
