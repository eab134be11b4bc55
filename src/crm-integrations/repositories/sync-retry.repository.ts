import { Injectable } from '@nestjs/common';
import { CrmConnection, SyncRetryItem } from '@pm/domain';
import type { CrmRecord } from '@pm/integration-port';
import type { CursorDirection, RetryItem, RetryStore, StoredRetryItem } from '@pm/sync-engine';
import { CrmRepository } from './base.repository';

/** Records that failed to sync, retried by the next runs: the engine's `RetryStore`. */
@Injectable()
export class SyncRetryRepository extends CrmRepository implements RetryStore {
  async list(connectionId: string, direction: CursorDirection): Promise<StoredRetryItem[]> {
    const items = await this.fork().find(
      SyncRetryItem,
      { connection: connectionId, direction },
      { orderBy: { firstFailedAt: 'asc' } },
    );
    return items.map((item) => ({
      direction: item.direction,
      object: item.object,
      recordId: item.recordId,
      recordKey: item.recordKey ?? null,
      error: item.lastError,
      attempts: item.attempts,
      payload: (item.payload as CrmRecord | null | undefined) ?? null,
    }));
  }

  async record(connectionId: string, items: RetryItem[]): Promise<void> {
    if (items.length === 0) return;
    const em = this.fork();
    const existing = await em.find(SyncRetryItem, {
      connection: connectionId,
      $or: items.map((item) => ({ direction: item.direction, object: item.object, recordId: item.recordId })),
    });
    const byKey = new Map(
      existing.map((item) => [`${item.direction}|${item.object}|${item.recordId}`, item]),
    );
    for (const item of items) {
      const found = byKey.get(`${item.direction}|${item.object}|${item.recordId}`);
      if (found) {
        found.attempts += 1;
        found.lastError = item.error;
        found.lastFailedAt = new Date();
        found.payload = (item.payload as unknown as Record<string, unknown> | undefined) ?? found.payload;
        continue;
      }
      const created = em.create(SyncRetryItem, {
        connection: em.getReference(CrmConnection, connectionId),
        direction: item.direction,
        object: item.object,
        recordId: item.recordId,
        recordKey: item.recordKey,
        lastError: item.error,
        payload: (item.payload as unknown as Record<string, unknown> | undefined) ?? null,
      });
      byKey.set(`${item.direction}|${item.object}|${item.recordId}`, created);
    }
    await em.flush();
  }

  async clear(
    connectionId: string,
    direction: CursorDirection,
    object: string,
    recordIds: string[],
  ): Promise<void> {
    if (recordIds.length === 0) return;
    await this.fork().nativeDelete(SyncRetryItem, {
      connection: connectionId,
      direction,
      object,
      recordId: { $in: recordIds },
    });
  }
}
