import { Entity, ManyToOne, Opt, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from './common';
import { CrmConnection } from './crm-connection.entity';

/**
 * The CRM record a message's opens and clicks are rolled up into, per connection: the first open or click creates
 * it, every later one updates the same record with the counts and the last time.
 */
@Entity({ tableName: 'activity_message_records' })
@Unique({ properties: ['connection', 'messageId'] })
export class ActivityMessageRecord {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @ManyToOne(() => CrmConnection, { deleteRule: 'cascade' })
  connection!: CrmConnection;

  @Property({ type: 'text' })
  messageId!: string;

  @Property({ type: 'text' })
  crmId!: string;

  @Property({ type: 'integer', default: 0 })
  opens: number & Opt = 0;

  @Property({ type: 'integer', default: 0 })
  clicks: number & Opt = 0;

  @Property({ type: 'datetime', nullable: true })
  lastEventAt?: Date | null;

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date & Opt = new Date();
}
