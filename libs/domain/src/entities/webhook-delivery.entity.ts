import { Entity, Enum, Index, ManyToOne, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from './common';
import { Tenant } from './tenant.entity';

/** pending: not delivered yet (`nextAttemptAt`) · delivered: the receiver answered 2xx · failed: gave up after a day. */
export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** One webhook call: a slice of the change feed, its body fixed when made, and how sending it went. */
@Entity({ tableName: 'webhook_deliveries' })
@Index({ properties: ['tenant', 'createdAt'] })
@Index({ properties: ['status', 'nextAttemptAt'] })
// The retention pass deletes by age across tenants.
@Index({ properties: ['createdAt'] })
export class WebhookDelivery {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @ManyToOne(() => Tenant, { deleteRule: 'cascade' })
  tenant!: Tenant;

  /** The body sent, byte for byte, on every attempt. */
  @Property({ type: 'text' })
  body!: string;

  @Property({ type: 'bigint' })
  firstChangeId!: string;

  @Property({ type: 'bigint' })
  lastChangeId!: string;

  @Enum({ items: () => [...WEBHOOK_DELIVERY_STATUSES], default: 'pending' })
  status: WebhookDeliveryStatus & Opt = 'pending';

  @Property({ type: 'integer', default: 0 })
  attempts: number & Opt = 0;

  /** The receiver's status and a short reason, or the network error. */
  @Property({ type: 'text', nullable: true })
  lastError?: string | null;

  @Property({ type: 'integer', nullable: true })
  lastStatusCode?: number | null;

  @Property({ type: 'datetime', nullable: true })
  nextAttemptAt?: Date | null;

  @Property({ type: 'datetime' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'datetime', nullable: true })
  lastAttemptAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  deliveredAt?: Date | null;
}
