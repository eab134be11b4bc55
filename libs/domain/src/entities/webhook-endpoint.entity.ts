import { Entity, ManyToOne, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from './common';
import { Tenant } from './tenant.entity';

/** A sealed signing secret (`SecretBox`, the endpoint id as associated data). */
export interface SealedWebhookSecret {
  keyId: string;
  sealed: string;
}

/**
 * Where a tenant hears about contact changes from its CRMs. The signing secret is sealed at rest and never leaves
 * except once, in the answer that created or rotated it; after a rotation the previous one still signs a second
 * signature until `previousSecretExpiresAt`, so the receiver can switch over.
 */
@Entity({ tableName: 'webhook_endpoints' })
export class WebhookEndpoint {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @ManyToOne(() => Tenant, { deleteRule: 'cascade', unique: true })
  tenant!: Tenant;

  @Property({ type: 'text' })
  url!: string;

  @Property({ type: 'json', hidden: true, lazy: true })
  secret!: SealedWebhookSecret;

  @Property({ type: 'json', hidden: true, lazy: true, nullable: true })
  previousSecret?: SealedWebhookSecret | null;

  @Property({ type: 'datetime', nullable: true })
  previousSecretExpiresAt?: Date | null;

  /** The last change feed entry turned into a delivery. */
  @Property({ type: 'bigint', default: 0 })
  feedPosition: string & Opt = '0';

  @Property({ type: 'datetime' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date & Opt = new Date();
}
