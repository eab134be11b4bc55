import { Injectable } from '@nestjs/common';
import { newId, SyncCursorState } from '@pm/domain';
import type { SyncCursor } from '@pm/integration-port';
import type { CursorDirection, CursorState, CursorStore } from '@pm/sync-engine';
import { CrmRepository } from './base.repository';

/** Where each connection's sync left off, per object and direction: the engine's `CursorStore`. */
@Injectable()
export class SyncCursorRepository extends CrmRepository implements CursorStore {
  async load(connectionId: string, object: string, direction: CursorDirection): Promise<CursorState> {
    const state = await this.fork().findOne(SyncCursorState, { connection: connectionId, object, direction });
    return {
      value: state?.value ?? null,
      initialSyncCompletedAt: state?.initialSyncCompletedAt ?? null,
    };
  }

  /**
   * One statement (an upsert on the (connection, object, direction) key): a run saves its cursor after every page,
   * and loading the row, then flushing it in a transaction of its own cost four round trips. The first completion
   * time is kept once set.
   */
  async save(
    connectionId: string,
    object: string,
    direction: CursorDirection,
    value: SyncCursor | null,
    options: { initialSyncCompleted?: boolean } = {},
  ): Promise<void> {
    const now = new Date();
    await this.fork().execute(
      `insert into "sync_cursors" ("id", "connection_id", "object", "direction", "value", ` +
        `"initial_sync_completed_at", "updated_at") values (?, ?, ?, ?, ?::jsonb, ?, ?) ` +
        `on conflict ("connection_id", "object", "direction") do update set "value" = excluded."value", ` +
        `"updated_at" = excluded."updated_at", "initial_sync_completed_at" = ` +
        `coalesce("sync_cursors"."initial_sync_completed_at", excluded."initial_sync_completed_at")`,
      [
        newId(),
        connectionId,
        object,
        direction,
        value ? JSON.stringify(value) : null,
        options.initialSyncCompleted ? now : null,
        now,
      ],
    );
  }

  /** Forgets every cursor of the connection: its next sync starts from the beginning. */
  async deleteForConnection(connectionId: string): Promise<void> {
    await this.fork().nativeDelete(SyncCursorState, { connection: connectionId });
  }
}
