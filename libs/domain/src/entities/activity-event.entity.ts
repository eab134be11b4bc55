import { Entity, Enum, Index, ManyToOne, Opt, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from './common';
import { Tenant } from './tenant.entity';

/** The e-mail events the PenguinMails backend reports. */
export const ACTIVITY_EVENT_TYPES = [
  'sent',
  'delivered',
  'opened',
  'clicked',
  'replied',
  'bounced',
  'unsubscribed',
] as const;
export type ActivityEventType = (typeof ACTIVITY_EVENT_TYPES)[number];

export const BOUNCE_TYPES = ['hard', 'soft'] as const;
export type BounceType = (typeof BOUNCE_TYPES)[number];

/**
 * One e-mail event as PenguinMails reported it, stored once per tenant and event id: the event id is what makes a
 * retried ingest call log nothing twice. What each connection does with it is its `ActivityDelivery`.
 */
@Entity({ tableName: 'activity_events' })
@Unique({ properties: ['tenant', 'eventId'] })
@Index({ properties: ['tenant', 'messageId'] })
export class ActivityEvent {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @ManyToOne(() => Tenant, { deleteRule: 'cascade' })
  tenant!: Tenant;

  /** PenguinMails' own id of the event (the idempotency key). */
  @Property({ type: 'text' })
  eventId!: string;

  @Enum({ items: () => [...ACTIVITY_EVENT_TYPES] })
  type!: ActivityEventType;

  @Property({ type: 'text' })
  messageId!: string;

  @Property({ type: 'text', nullable: true })
  campaignId?: string | null;

  /** The contact's e-mail, normalised (trimmed, lower case) as contacts store it. */
  @Property({ type: 'text' })
  email!: string;

  @Property({ type: 'text', nullable: true })
  subject?: string | null;

  @Property({ type: 'datetime' })
  occurredAt!: Date;

  /** The link clicked (clicked events). */
  @Property({ type: 'text', nullable: true })
  url?: string | null;

  /** The start of a reply (replied events). */
  @Property({ type: 'text', nullable: true })
  snippet?: string | null;

  @Enum({ items: () => [...BOUNCE_TYPES], nullable: true })
  bounceType?: BounceType | null;

  /** Why a message bounced. */
  @Property({ type: 'text', nullable: true })
  reason?: string | null;

  @Property({ type: 'datetime' })
  receivedAt: Date & Opt = new Date();
}
