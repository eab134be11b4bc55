import { Entity, Enum, Index, ManyToOne, Opt, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from './common';
import { CrmConnection } from './crm-connection.entity';

/**
 * A record one side rejected during a sync run, tried again at the start of the next run. For records coming from
 * the CRM, `payload` keeps the record as read (the port has no fetch by id); for local contacts the id suffices.
 */
@Entity({ tableName: 'sync_retry_items' })
@Unique({ properties: ['connection', 'direction', 'object', 'recordId'] })
@Index({ properties: ['connection', 'direction'] })
export class SyncRetryItem {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @ManyToOne(() => CrmConnection, { deleteRule: 'cascade' })
  connection!: CrmConnection;

  @Enum({ items: ['to_crm', 'from_crm'] })
  direction!: 'to_crm' | 'from_crm';

  @Property({ type: 'text' })
  object!: string;

  @Property({ type: 'text' })
  recordId!: string;

  /** The key a person recognises, usually the e-mail. */
  @Property({ type: 'text', nullable: true })
  recordKey?: string | null;

  /** The last error, in the rejecting side's own words. */
  @Property({ type: 'text' })
  lastError!: string;

  @Property({ type: 'integer', default: 1 })
  attempts: number & Opt = 1;

  @Property({ type: 'json', nullable: true })
  payload?: Record<string, unknown> | null;

  @Property({ type: 'datetime' })
  firstFailedAt: Date & Opt = new Date();

  @Property({ type: 'datetime' })
  lastFailedAt: Date & Opt = new Date();
}
