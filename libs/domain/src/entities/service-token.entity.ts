import { Entity, ManyToOne, Opt, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from './common';
import { Tenant } from './tenant.entity';

/**
 * A bearer token the PenguinMails backend calls the API with. Only its SHA-256 is stored. A token with a tenant
 * reaches only that tenant's routes; one without (a platform token) reaches every tenant. A token past its
 * `expiresAt` or with `revokedAt` set is refused.
 */
@Entity({ tableName: 'service_tokens' })
export class ServiceToken {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @ManyToOne(() => Tenant, { nullable: true, deleteRule: 'cascade' })
  tenant?: Tenant | null;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text', hidden: true })
  @Unique()
  tokenHash!: string;

  /** The first characters of the token, to tell tokens apart in lists. */
  @Property({ type: 'text' })
  prefix!: string;

  @Property({ type: 'datetime' })
  createdAt: Date & Opt = new Date();

  /** Who issued it (an admin's e-mail, `cli`, or the platform token). */
  @Property({ type: 'text', nullable: true })
  createdBy?: string | null;

  /** Null: never expires. */
  @Property({ type: 'datetime', nullable: true })
  expiresAt?: Date | null;

  /** Updated at most once a minute (see ServiceTokenService), so authenticating stays a read. */
  @Property({ type: 'datetime', nullable: true })
  lastUsedAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  revokedAt?: Date | null;
}
