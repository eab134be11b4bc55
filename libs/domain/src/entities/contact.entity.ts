import {
  Check,
  Enum,
  BeforeCreate,
  BeforeUpdate,
  Entity,
  Index,
  ManyToOne,
  Opt,
  PrimaryKey,
  Property,
  Unique,
} from '@mikro-orm/core';
import { newId, normaliseEmail } from './common';
import { Tenant } from './tenant.entity';
import { CONTACT_EMAIL_STATUSES, type ContactEmailStatus } from '../model/contact-fields';

export * from '../model/contact-fields';

/** A PenguinMails contact: the local side of contact sync. */
@Check({ name: 'contacts_email_normalised', expression: "email = lower(btrim(email)) and email <> ''" })
@Entity({ tableName: 'contacts' })
@Unique({ properties: ['tenant', 'email'] })
@Index({ properties: ['tenant', 'updatedAt'] })
// A mapping may match contacts on a custom field: the sync looks key values up by containment (`@>`).
@Index({
  name: 'contacts_custom_fields_index',
  expression:
    'create index "contacts_custom_fields_index" on "contacts" using gin ("custom_fields" jsonb_path_ops)',
})
export class Contact {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @ManyToOne(() => Tenant, { deleteRule: 'cascade' })
  tenant!: Tenant;

  /** Normalised (trimmed, lower case); unique per tenant. */
  @Property({ type: 'text' })
  email!: string;

  @Property({ type: 'text', nullable: true })
  firstName?: string | null;

  @Property({ type: 'text', nullable: true })
  lastName?: string | null;

  @Property({ type: 'text', nullable: true })
  company?: string | null;

  @Property({ type: 'text', nullable: true })
  title?: string | null;

  @Property({ type: 'text', nullable: true })
  phone?: string | null;

  /** Lifecycle stage (subscriber, lead, customer, …) as PenguinMails names it. */
  @Property({ type: 'text', nullable: true })
  lifecycleStage?: string | null;

  @Property({ type: 'text', nullable: true })
  leadStatus?: string | null;

  /**
   * What e-mail events said about the address: a hard bounce or an unsubscribe (the latest wins); null: nothing.
   * Set by activity ingest, not by contact sync (it is no mapped field).
   */
  @Enum({ items: () => [...CONTACT_EMAIL_STATUSES], nullable: true })
  emailStatus?: ContactEmailStatus | null;

  /** The bounce's reason, as the mail server gave it. */
  @Property({ type: 'text', nullable: true })
  emailStatusReason?: string | null;

  /** When the event that set `emailStatus` happened. */
  @Property({ type: 'datetime', nullable: true })
  emailStatusAt?: Date | null;

  /** Tenant-defined fields, mapped to CRM custom fields by the field mapping. */
  @Property({ type: 'json', default: '{}' })
  customFields: Record<string, unknown> & Opt = {};

  @Property({ type: 'datetime' })
  createdAt: Date & Opt = new Date();

  /** Bumped on every local change; the engine's change detection reads it. */
  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date & Opt = new Date();

  /** Soft delete, so a deletion can be seen (and unlinked) by the next sync. */
  @Property({ type: 'datetime', nullable: true })
  deletedAt?: Date | null;

  @BeforeCreate()
  @BeforeUpdate()
  protected normalise(): void {
    this.email = normaliseEmail(this.email);
  }
}
