import { Entity, Enum, Index, ManyToOne, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { Tenant } from './tenant.entity';

export const CONTACT_CHANGE_KINDS = ['created', 'updated', 'deleted'] as const;
export type ContactChangeKind = (typeof CONTACT_CHANGE_KINDS)[number];

/**
 * One entry of a tenant's contact change feed: a change a CRM made to a PenguinMails contact, written by the sync
 * engine's local store in the same transaction as the change. Ids of one tenant are handed out under a per-tenant
 * transaction lock held to commit, so they follow commit order and a reader paging by id never skips one.
 */
@Entity({ tableName: 'contact_changes' })
@Index({ properties: ['tenant', 'id'] })
// The retention pass deletes by age across tenants.
@Index({ properties: ['occurredAt'] })
export class ContactChange {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string & Opt;

  @ManyToOne(() => Tenant, { deleteRule: 'cascade' })
  tenant!: Tenant;

  @Property({ type: 'uuid' })
  contactId!: string;

  /** The connection whose CRM made the change (kept after the connection is removed). */
  @Property({ type: 'uuid', nullable: true })
  connectionId?: string | null;

  @Property({ type: 'text', nullable: true })
  provider?: string | null;

  @Enum({ items: () => [...CONTACT_CHANGE_KINDS] })
  kind!: ContactChangeKind;

  @Property({ type: 'text' })
  email!: string;

  /** The contact fields that changed. */
  @Property({ type: 'json' })
  fields!: string[];

  /** Their new values. */
  @Property({ type: 'json' })
  values!: Record<string, string | null>;

  @Property({ type: 'datetime' })
  occurredAt: Date & Opt = new Date();
}
