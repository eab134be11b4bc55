import { Injectable } from '@nestjs/common';
import { Contact, CONTACT_TEXT_FIELDS, normaliseEmail, Tenant } from '@pm/domain';
import { CrmRepository, insertRows, type RowColumn } from './base.repository';

const underscore = (name: string): string => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/**
 * A contact's columns as plain values (no entity): what the sync reads to compare and plan, never to write back.
 * Reading a page this way skips hydration, the identity map and the change-tracking snapshot of every contact.
 */
export type ContactSyncRow = Omit<Contact, 'tenant'>;

/** The columns `insertBuilt` fills, in the order it lists a contact's values. */
const BUILT_CONTACT_COLUMNS: RowColumn[] = [
  ['id', 'uuid'],
  ['email', 'text'],
  ['custom_fields', 'jsonb'],
  ['created_at', 'timestamptz'],
  ['updated_at', 'timestamptz'],
  ['deleted_at', 'timestamptz'],
  ...CONTACT_TEXT_FIELDS.map((field): RowColumn => [underscore(field), 'text']),
];

export interface ContactPageQuery {
  tenantId: string;
  limit: number;
  /** Keyset position: contacts after (updatedAt, id). */
  after?: { updatedAt: Date; id: string };
  email?: string;
}

@Injectable()
export class ContactRepository extends CrmRepository {
  findById(tenantId: string, id: string): Promise<Contact | null> {
    return this.em.findOne(Contact, { id, tenant: tenantId, deletedAt: null });
  }

  findByEmail(tenantId: string, email: string): Promise<Contact | null> {
    return this.em.findOne(Contact, { tenant: tenantId, email: normaliseEmail(email) });
  }

  /** Oldest change first, then id: the order outbound sync reads in, stable under concurrent writes. */
  page(query: ContactPageQuery): Promise<Contact[]> {
    const where: Record<string, unknown> = { tenant: query.tenantId, deletedAt: null };
    if (query.email) where.email = normaliseEmail(query.email);
    if (query.after) {
      where.$or = [
        { updatedAt: { $gt: query.after.updatedAt } },
        { updatedAt: query.after.updatedAt, id: { $gt: query.after.id } },
      ];
    }
    return this.em.find(Contact, where, { orderBy: { updatedAt: 'asc', id: 'asc' }, limit: query.limit });
  }

  /** For sync: any contact of the tenant by id, deleted ones included. */
  findByIdIncludingDeleted(tenantId: string, id: string): Promise<Contact | null> {
    return this.em.findOne(Contact, { id, tenant: tenantId });
  }

  /**
   * For sync: contacts changed after a keyset position, oldest first then id, deleted ones included (a deletion
   * is a change the sync must see). Without `after.id`, contacts at exactly `after.updatedAt` are included.
   */
  changedSinceForSync(
    tenantId: string,
    after: { updatedAt: Date; id?: string } | null,
    limit: number,
  ): Promise<ContactSyncRow[]> {
    const where: Record<string, unknown> = { tenant: tenantId };
    if (after && after.id === undefined) where.updatedAt = { $gte: after.updatedAt };
    if (after && after.id !== undefined) {
      where.$or = [
        { updatedAt: { $gt: after.updatedAt } },
        { updatedAt: after.updatedAt, id: { $gt: after.id } },
      ];
    }
    return this.syncRows(where, { orderBy: { updatedAt: 'asc', id: 'asc' }, limit });
  }

  /** For sync: by ids, deleted ones included (plain rows). */
  findRowsByIdsForSync(tenantId: string, ids: string[]): Promise<ContactSyncRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.syncRows({ tenant: tenantId, id: { $in: ids } });
  }

  /** For sync: by normalised e-mails, deleted ones included (plain rows). */
  findRowsByEmailsForSync(tenantId: string, emails: string[]): Promise<ContactSyncRow[]> {
    if (emails.length === 0) return Promise.resolve([]);
    return this.syncRows({ tenant: tenantId, email: { $in: emails.map(normaliseEmail) } });
  }

  /** For sync's writes: by ids, deleted ones included, as entities the caller changes and flushes. */
  findManyByIdsForSync(tenantId: string, ids: string[]): Promise<Contact[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.em.find(Contact, { tenant: tenantId, id: { $in: ids } });
  }

  /** For sync's writes: by normalised e-mails, deleted ones included, as entities. */
  findManyByEmailsForSync(tenantId: string, emails: string[]): Promise<Contact[]> {
    if (emails.length === 0) return Promise.resolve([]);
    return this.em.find(Contact, { tenant: tenantId, email: { $in: emails.map(normaliseEmail) } });
  }

  /**
   * For sync: by one custom field's value (a matching key), deleted ones included (plain rows). Each value is
   * looked for as text and, when it reads as a number, as that number (the GIN containment index answers both);
   * the caller compares the text form.
   */
  findRowsByCustomFieldForSync(tenantId: string, name: string, values: string[]): Promise<ContactSyncRow[]> {
    if (values.length === 0) return Promise.resolve([]);
    const documents = values.flatMap((value) => {
      const asNumber = Number(value);
      const forms: unknown[] = value.trim() !== '' && Number.isFinite(asNumber) ? [value, asNumber] : [value];
      return forms.map((form) => JSON.stringify({ [name]: form }));
    });
    return this.syncRows(
      { tenant: tenantId },
      {
        condition: [
          `c.custom_fields @> any(array[${documents.map(() => '?::jsonb').join(', ')}])`,
          documents,
        ],
      },
    );
  }

  private syncRows(
    where: Record<string, unknown>,
    options: {
      orderBy?: Record<string, 'asc' | 'desc'>;
      limit?: number;
      /** An SQL condition with its parameters, besides `where`. */
      condition?: [string, unknown[]];
    } = {},
  ): Promise<ContactSyncRow[]> {
    const query = this.em.createQueryBuilder(Contact, 'c').select('*').where(where);
    if (options.condition) query.andWhere(...options.condition);
    if (options.orderBy) query.orderBy(options.orderBy);
    if (options.limit !== undefined) query.limit(options.limit);
    // Mapped to property names and types, but no entity is made.
    return query.execute<ContactSyncRow[]>('all', true);
  }

  /**
   * A new contact outside the unit of work (no entity state, no change set): the caller fills it in and inserts it
   * with `insertBuilt` in its own transaction.
   */
  build(email: string): Contact {
    const contact = new Contact();
    contact.email = normaliseEmail(email);
    contact.deletedAt = null;
    return contact;
  }

  /** Inserts contacts made by `build` as one statement (in the current transaction, if any). */
  async insertBuilt(tenantId: string, contacts: Contact[]): Promise<void> {
    await insertRows(
      this.em,
      'contacts',
      [['tenant_id', 'text', tenantId]],
      BUILT_CONTACT_COLUMNS,
      contacts.map((contact) => [
        contact.id,
        normaliseEmail(contact.email),
        contact.customFields,
        contact.createdAt,
        contact.updatedAt,
        contact.deletedAt ?? null,
        ...CONTACT_TEXT_FIELDS.map((field) => contact[field] ?? null),
      ]),
    );
  }

  create(tenantId: string, email: string): Contact {
    return this.em.create(Contact, {
      email: normaliseEmail(email),
      tenant: this.em.getReference(Tenant, tenantId),
    });
  }
}
