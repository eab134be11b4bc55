import { Entity, Index, Opt, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from './common';

/**
 * One `Idempotency-Key` a caller sent with a POST: the request it stood for (a hash of method, path and body) and,
 * once the request succeeded, the answer to replay. Scoped by tenant and token, so two callers never share keys; a
 * row is forgotten after `expiresAt` (24 hours).
 */
@Entity({ tableName: 'idempotency_keys' })
@Unique({ properties: ['tenantId', 'scope', 'key'] })
@Index({ properties: ['expiresAt'] })
export class IdempotencyKey {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  /** The tenant in the path (no foreign key: the answer to a request for an unknown tenant is stored too). */
  @Property({ type: 'text' })
  tenantId!: string;

  /** Which token sent it: a tenant token's id, or the platform actor. */
  @Property({ type: 'text' })
  scope!: string;

  @Property({ type: 'text' })
  key!: string;

  /** SHA-256 of method, path and canonical JSON body. */
  @Property({ type: 'text' })
  requestHash!: string;

  /** Null while the first request is still running. */
  @Property({ type: 'integer', nullable: true })
  responseStatus?: number | null;

  @Property({ type: 'json', nullable: true })
  responseBody?: unknown;

  @Property({ type: 'datetime' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'datetime' })
  expiresAt!: Date;
}
