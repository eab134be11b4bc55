import { Entity, ManyToOne, Property } from '@mikro-orm/core';
import { CrmConnection } from './crm-connection.entity';

/**
 * Which process follows a connection's CRM change stream. Workers scale out, and every worker runs the change-stream
 * subscriber: the lease makes one of them follow each stream (two would fetch every event twice and queue each hint
 * twice). The holder renews it on each refresh; a holder that died stops renewing, and another worker takes the
 * stream over once the lease has expired, resuming from the stored replay position.
 */
@Entity({ tableName: 'change_stream_leases' })
export class ChangeStreamLease {
  @ManyToOne(() => CrmConnection, { primary: true, deleteRule: 'cascade' })
  connection!: CrmConnection;

  /** The holding process (host, pid and a random id drawn at start). */
  @Property({ type: 'text' })
  holder!: string;

  @Property({ type: 'datetime' })
  expiresAt!: Date;
}
