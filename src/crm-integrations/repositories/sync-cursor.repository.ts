import { Injectable } from '@nestjs/common';
import { CrmConnection, SyncCursorState } from '@pm/domain';
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

  async save(
    connectionId: string,
    object: string,
    direction: CursorDirection,
    value: SyncCursor | null,
    options: { initialSyncCompleted?: boolean } = {},
  ): Promise<void> {
    const em = this.fork();
    const state =
      (await em.findOne(SyncCursorState, { connection: connectionId, object, direction })) ??
      em.create(SyncCursorState, {
        connection: em.getReference(CrmConnection, connectionId),
        object,
        direction,
      });
    state.value = value ? { ...value } : null;
    if (options.initialSyncCompleted && !state.initialSyncCompletedAt)
      state.initialSyncCompletedAt = new Date();
    await em.flush();
  }

  /** Forgets every cursor of the connection: its next sync starts from the beginning. */
  async deleteForConnection(connectionId: string): Promise<void> {
    await this.fork().nativeDelete(SyncCursorState, { connection: connectionId });
  }
}
