import { Entity, Index, ManyToOne, Opt, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from './common';
import { CrmConnection } from './crm-connection.entity';

/**
 * One record a CRM change event (webhook, change data capture) named, kept until a targeted sync has read and
 * applied it, then kept a while longer for the lag figures. A hint the CRM repeats (same event id) is stored once;
 * hints of one record waiting together are applied by one read.
 */
@Entity({ tableName: 'change_hints' })
@Unique({ name: 'change_hints_event_unique', properties: ['connection', 'object', 'crmId', 'eventId'] })
@Index({ name: 'change_hints_connection_applied_index', properties: ['connection', 'appliedAt'] })
export class ChangeHintRecord {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @ManyToOne(() => CrmConnection, { deleteRule: 'cascade' })
  connection!: CrmConnection;

  /** The CRM's own object name. */
  @Property({ type: 'text' })
  object!: string;

  @Property({ type: 'text' })
  crmId!: string;

  /** What the event said happened (created, updated, deleted, merged, other): a hint, never applied as such. */
  @Property({ type: 'text' })
  action!: string;

  /** The channel's own event id, where it has one (de-duplication). */
  @Property({ type: 'text', nullable: true })
  eventId?: string | null;

  /** When the CRM says the change happened: the start of the end-to-end lag. */
  @Property({ type: 'datetime' })
  occurredAt!: Date;

  @Property({ type: 'datetime' })
  receivedAt: Date & Opt = new Date();

  /** When a targeted sync applied the record's current state; null while waiting. */
  @Property({ type: 'datetime', nullable: true })
  appliedAt?: Date | null;

  /** appliedAt − occurredAt. */
  @Property({ type: 'integer', nullable: true })
  lagMs?: number | null;

  /** What the read found: present, gone (a deletion), ignored (an object or direction the connection does not sync). */
  @Property({ type: 'text', nullable: true })
  outcome?: string | null;
}
