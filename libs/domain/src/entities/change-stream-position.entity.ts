import { Entity, ManyToOne, Opt, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from './common';
import { CrmConnection } from './crm-connection.entity';

/**
 * Where a connection's CRM change stream resumes, per channel (a Salesforce Change Data Capture replay id). Saved
 * only after the change at that position was accepted as a hint, so a restart replays from there: no gap.
 */
@Entity({ tableName: 'change_stream_positions' })
@Unique({ properties: ['connection', 'channel'] })
export class ChangeStreamPosition {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @ManyToOne(() => CrmConnection, { deleteRule: 'cascade' })
  connection!: CrmConnection;

  @Property({ type: 'text' })
  channel!: string;

  /** The last accepted position; null after a gap (the stream resumes with everything retained). */
  @Property({ type: 'text', nullable: true })
  position?: string | null;

  /** When the stream lost its place (the stored position was refused): a reconcile must find what was missed. */
  @Property({ type: 'datetime', nullable: true })
  gapDetectedAt?: Date | null;

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date & Opt = new Date();
}
