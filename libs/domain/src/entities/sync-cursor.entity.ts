import { Entity, ManyToOne, Opt, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from './common';
import { CrmConnection } from './crm-connection.entity';

/**
 * Where incremental reading resumes, per connection, object and direction. Saved only after the page it covers is
 * applied, so a crash resumes and never skips. `value` is the port's (modifiedAt, lastId) cursor for inbound reads,
 * or the local (updatedAt, id) position for outbound.
 */
@Entity({ tableName: 'sync_cursors' })
@Unique({ properties: ['connection', 'object', 'direction'] })
export class SyncCursorState {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @ManyToOne(() => CrmConnection, { deleteRule: 'cascade' })
  connection!: CrmConnection;

  @Property({ type: 'text' })
  object!: string;

  @Property({ type: 'text' })
  direction!: 'from_crm' | 'to_crm';

  @Property({ type: 'json', nullable: true })
  value?: { modifiedAt: string; lastId?: string; readAt?: string; recompare?: true } | null;

  /** When the first full read of this object finished; null while the initial sync is still running. */
  @Property({ type: 'datetime', nullable: true })
  initialSyncCompletedAt?: Date | null;

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date & Opt = new Date();
}
