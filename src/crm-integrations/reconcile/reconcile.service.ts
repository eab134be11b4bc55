import { ConflictException, Injectable } from '@nestjs/common';
import type { SyncRun } from '@pm/domain';
import { ConnectionService } from '../connections/connection.service';
import { ConnectionRepository, SyncRunRepository } from '../repositories';
import { SyncRuns } from '../sync/sync-runs';
import { ReconcileNowResponseDto, ReconcileRunResponseDto } from './reconcile.dto';

/** Reconciles asked for through the API, and by the parts that know a change stream had a gap. */
@Injectable()
export class ReconcileService {
  constructor(
    private readonly connections: ConnectionService,
    private readonly runs: SyncRuns,
    private readonly runRepository: SyncRunRepository,
    private readonly connectionRepository: ConnectionRepository,
  ) {}

  /** On demand: queues a reconcile of the connection, or returns the one already waiting. */
  async reconcileNow(tenantId: string, connectionId: string): Promise<ReconcileNowResponseDto> {
    const connection = await this.connections.require(tenantId, connectionId);
    const refusal = await this.runs.whyNotRunnable(connection);
    if (refusal) throw new ConflictException(`Cannot reconcile now: ${refusal}`);
    const { run, queued } = await this.request({ id: connection.id, tenantId });
    return { queued, run: ReconcileRunResponseDto.fromRun(run) };
  }

  /**
   * Queues a reconcile without the API's checks: for a change channel that lost events (a stream gap, a webhook
   * subscription that lapsed) and for the periodic one. A reconcile already waiting is the one that will do.
   */
  request(connection: { id: string; tenantId: string }): Promise<{ run: SyncRun; queued: boolean }> {
    return this.runs.request(connection, 'reconcile');
  }

  /**
   * The periodic reconcile: queues one for every connected, synced, runnable connection whose last reconcile was
   * queued more than `intervalMs` before `now`; returns the ids queued.
   */
  async queueDue(now: Date, intervalMs: number): Promise<string[]> {
    const connected = await this.connectionRepository.findConnected();
    const due = new Set(
      await this.runRepository.withoutReconcileSince(
        connected.map((connection) => connection.id),
        new Date(now.getTime() - intervalMs),
      ),
    );
    const queued: string[] = [];
    for (const connection of connected) {
      // Never before a first sync: there is nothing to compare yet.
      if (!due.has(connection.id) || !connection.lastSyncAt) continue;
      if (await this.runs.whyNotRunnable(connection)) continue;
      const result = await this.request({ id: connection.id, tenantId: connection.tenant.id });
      if (result.queued) queued.push(connection.id);
    }
    return queued;
  }

  async listRuns(tenantId: string, connectionId: string, limit = 50): Promise<ReconcileRunResponseDto[]> {
    const connection = await this.connections.require(tenantId, connectionId);
    const runs = await this.runRepository.listReconciles(connection.id, limit);
    return runs.map((run) => ReconcileRunResponseDto.fromRun(run));
  }
}
