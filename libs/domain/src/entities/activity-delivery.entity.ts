import { Entity, Enum, Index, ManyToOne, Opt, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { ActivityEvent } from './activity-event.entity';
import { newId } from './common';
import { CrmConnection } from './crm-connection.entity';

/**
 * pending: waiting for the delivery job · held: the contact is not linked in this CRM yet · delivered: in the CRM
 * (`crmId`) · failed: the CRM rejected it (`lastError`), tried again on the next delivery · skipped: nothing to
 * write for this kind of event (it is folded elsewhere).
 */
export const ACTIVITY_DELIVERY_STATUSES = ['pending', 'held', 'delivered', 'failed', 'skipped'] as const;
export type ActivityDeliveryStatus = (typeof ACTIVITY_DELIVERY_STATUSES)[number];

/** One event's way into one connection's CRM. */
@Entity({ tableName: 'activity_deliveries' })
@Unique({ properties: ['connection', 'event'] })
@Index({ properties: ['connection', 'status'] })
export class ActivityDelivery {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @ManyToOne(() => CrmConnection, { deleteRule: 'cascade' })
  connection!: CrmConnection;

  @ManyToOne(() => ActivityEvent, { deleteRule: 'cascade' })
  event!: ActivityEvent;

  @Enum({ items: () => [...ACTIVITY_DELIVERY_STATUSES], default: 'pending' })
  status: ActivityDeliveryStatus & Opt = 'pending';

  /** Deliveries the CRM refused. */
  @Property({ type: 'integer', default: 0 })
  attempts: number & Opt = 0;

  /** The CRM's own message for the last refusal, or why the event is held or skipped. */
  @Property({ type: 'text', nullable: true })
  lastError?: string | null;

  /** The CRM record the event was logged as (for opens and clicks: the message's roll-up record). */
  @Property({ type: 'text', nullable: true })
  crmId?: string | null;

  @Property({ type: 'datetime' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'datetime', nullable: true })
  lastAttemptAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  deliveredAt?: Date | null;
}
