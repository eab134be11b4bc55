import { Injectable } from '@nestjs/common';
import { CrmConnection, SyncLogEntry, SyncRun, Tenant } from '@pm/domain';
import type { SyncConnection, SyncLogLine, SyncLogSink } from '@pm/sync-engine';
import { CrmRepository } from './base.repository';

/** The per-connection sync log: the engine's `SyncLogSink`, and what the log route reads. */
@Injectable()
export class SyncLogRepository extends CrmRepository implements SyncLogSink {
  async write(connection: SyncConnection, runId: string | null, lines: SyncLogLine[]): Promise<void> {
    if (lines.length === 0) return;
    const em = this.fork();
    const at = new Date();
    for (const line of lines) {
      em.create(SyncLogEntry, {
        tenant: em.getReference(Tenant, connection.tenantId),
        connection: em.getReference(CrmConnection, connection.id),
        run: runId ? em.getReference(SyncRun, runId) : null,
        at,
        direction: line.direction,
        object: line.object,
        recordKey: line.recordKey,
        action: line.action,
        message: line.message,
        details: line.details ?? null,
      });
    }
    await em.flush();
  }

  /** Newest first; only one run's lines when `runId` is given. */
  listForConnection(connectionId: string, limit: number, runId?: string): Promise<SyncLogEntry[]> {
    return this.fork().find(
      SyncLogEntry,
      { connection: connectionId, ...(runId ? { run: runId } : {}) },
      { orderBy: { id: 'desc' }, limit },
    );
  }
}
