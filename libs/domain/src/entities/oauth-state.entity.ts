import { Entity, Index, ManyToOne, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from './common';
import { Tenant } from './tenant.entity';

/**
 * One OAuth authorization in flight. The `state` sent to the CRM is random; only its SHA-256 is stored. It is bound
 * to a tenant and provider, single-use (`usedAt`) and short-lived (`expiresAt`), and carries the sealed PKCE
 * verifier where the CRM supports PKCE.
 */
@Entity({ tableName: 'oauth_states' })
@Index({ properties: ['expiresAt'] })
export class OAuthState {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @Property({ type: 'text', unique: true })
  stateHash!: string;

  @ManyToOne(() => Tenant, { deleteRule: 'cascade' })
  tenant!: Tenant;

  @Property({ type: 'text' })
  provider!: string;

  /** Reconnecting this connection, when set. */
  @Property({ type: 'uuid', nullable: true })
  connectionId?: string | null;

  /** The caller accepted replacing the connection's CRM account (and its sync state) with another one. */
  @Property({ type: 'boolean', default: false })
  startOver: boolean & Opt = false;

  @Property({ type: 'text', nullable: true })
  keyId?: string | null;

  /** Sealed PKCE code verifier. */
  @Property({ type: 'text', nullable: true, hidden: true })
  codeVerifier?: string | null;

  /** Where the browser goes after the callback (the dashboard's settings page). */
  @Property({ type: 'text', nullable: true })
  returnTo?: string | null;

  @Property({ type: 'text' })
  actor!: string;

  @Property({ type: 'datetime' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'datetime' })
  expiresAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  usedAt?: Date | null;

  /**
   * SHA-256 of the cookie set in the browser that opened the start link (once); the callback must carry it, so a
   * code obtained in another browser cannot complete this flow.
   */
  @Property({ type: 'text', nullable: true, hidden: true })
  browserBinding?: string | null;
}
