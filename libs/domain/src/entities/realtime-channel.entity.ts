import { Entity, OneToOne, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from './common';
import { CrmConnection } from './crm-connection.entity';

/**
 * A connection's real-time channel at its CRM: the credentials the CRM presents when it calls back (Pipedrive's
 * HTTP Basic user and password, generated per connection, sealed with `SecretBox` and the connection id as
 * associated data) and the webhooks registered there, so they can be removed. Never exposed by the API or AdminJS.
 */
@Entity({ tableName: 'realtime_channels' })
export class RealtimeChannel {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @OneToOne(() => CrmConnection, { owner: true, deleteRule: 'cascade', unique: true })
  connection!: CrmConnection;

  @Property({ type: 'text' })
  keyId!: string;

  /** base64(iv | ciphertext | auth tag) of the JSON credentials. */
  @Property({ type: 'text', hidden: true, lazy: true })
  sealed!: string;

  /** The CRM's ids of the webhooks registered for this connection (empty: none registered now). */
  @Property({ type: 'json' })
  webhookIds: string[] & Opt = [];

  @Property({ type: 'datetime', nullable: true })
  registeredAt?: Date | null;

  @Property({ type: 'datetime' })
  createdAt: Date & Opt = new Date();
}
