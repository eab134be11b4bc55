import { Entity, OneToOne, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from './common';
import { CrmConnection } from './crm-connection.entity';

/**
 * A connection's OAuth tokens, sealed with AES-256-GCM (`SecretBox`). `keyId` names the key that sealed them so
 * keys can rotate. Never exposed by the API or AdminJS: the whole entity is `hidden` and not an admin resource.
 */
@Entity({ tableName: 'connection_credentials' })
export class ConnectionCredential {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @OneToOne(() => CrmConnection, { owner: true, deleteRule: 'cascade', unique: true })
  connection!: CrmConnection;

  @Property({ type: 'text' })
  keyId!: string;

  /** base64(iv | ciphertext | auth tag) of the JSON token set. */
  @Property({ type: 'text', hidden: true, lazy: true })
  sealed!: string;

  @Property({ type: 'datetime', nullable: true })
  accessTokenExpiresAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  refreshedAt?: Date | null;

  @Property({ type: 'datetime' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date & Opt = new Date();
}
