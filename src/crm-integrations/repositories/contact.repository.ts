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

/** A JSON array parameter as a PostgreSQL array, for `= any(…)` (an index probe per element). */
const JSON_TEXTS = 'array(select jsonb_array_elements_text(?::jsonb))';
const JSON_UUIDS = 'array(select jsonb_array_elements_text(?::jsonb)::uuid)';

/** Property names by column (`first_name` → `firstName`), filled as columns are first seen. */
const PROPERTY_OF = new Map<string, string>();
const camel = (column: string): string =>
  column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
/** Timestamp columns: the driver leaves them as PostgreSQL's text (MikroORM's own mapping parses them). */
const DATE_COLUMNS = new Set(['created_at', 'updated_at', 'deleted_at', 'email_status_at']);

/** A `contacts` row (JSON parsed by the driver) as the properties `ContactSyncRow` names. */
function contactFromRow(row: Record<string, unknown>, parseDate: (value: string) => Date): ContactSyncRow {
  const contact: Record<string, unknown> = {};
  for (const column in row) {
    let property = PROPERTY_OF.get(column);
    if (property === undefined) PROPERTY_OF.set(column, (property = camel(column)));
    const value = row[column];
    contact[property] = DATE_COLUMNS.has(column) && typeof value === 'string' ? parseDate(value) : value;
  }
  return contact as unknown as ContactSyncRow;
}

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
    const [condition, params]: [string, unknown[]] =
      after === null
        ? ['true', []]
        : after.id === undefined
          ? ['c.updated_at >= ?', [after.updatedAt]]
          : // The first test leads the (tenant, updated at) index; the second keeps the keyset's order.
            [
              'c.updated_at >= ? and (c.updated_at > ? or c.id > ?::uuid)',
              [after.updatedAt, after.updatedAt, after.id],
            ];
    return this.syncRows(tenantId, condition, params, 'order by c.updated_at asc, c.id asc limit ?', [limit]);
  }

  /** For sync: by ids, deleted ones included (plain rows). */
  findRowsByIdsForSync(tenantId: string, ids: string[]): Promise<ContactSyncRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.syncRows(tenantId, `c.id = any(${JSON_UUIDS})`, [JSON.stringify(ids)]);
  }

  /** For sync: by normalised e-mails, deleted ones included (plain rows). */
  findRowsByEmailsForSync(tenantId: string, emails: string[]): Promise<ContactSyncRow[]> {
    if (emails.length === 0) return Promise.resolve([]);
    return this.syncRows(tenantId, `c.email = any(${JSON_TEXTS})`, [
      JSON.stringify(emails.map(normaliseEmail)),
    ]);
  }

  /** For sync's writes: by ids, deleted ones included, as entities the caller changes and flushes. */
  findManyByIdsForSync(tenantId: string, ids: string[]): Promise<Contact[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.syncEntities(tenantId, `c.id = any(${JSON_UUIDS})`, JSON.stringify(ids));
  }

  /** For sync's writes: by normalised e-mails, deleted ones included, as entities. */
  findManyByEmailsForSync(tenantId: string, emails: string[]): Promise<Contact[]> {
    if (emails.length === 0) return Promise.resolve([]);
    return this.syncEntities(
      tenantId,
      `c.email = any(${JSON_TEXTS})`,
      JSON.stringify(emails.map(normaliseEmail)),
    );
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
      tenantId,
      `c.custom_fields @> any(array[${documents.map(() => '?::jsonb').join(', ')}])`,
      documents,
    );
  }

  /**
   * The tenant's contacts meeting `condition` (SQL on alias `c`, `?` parameters), as plain rows: one statement with
   * its lists as one JSON parameter, and rows mapped by hand. MikroORM's criteria walk a page's `$in` list value by
   * value and its result mapping visits every column of every row; for a sync page of thousands of contacts both
   * cost more than PostgreSQL's work.
   */
  private async syncRows(
    tenantId: string,
    condition: string,
    params: unknown[],
    tail = '',
    tailParams: unknown[] = [],
  ): Promise<ContactSyncRow[]> {
    const rows = await this.em.execute<Record<string, unknown>[]>(
      `select c.* from "contacts" as c where c.tenant_id = ? and ${condition} ${tail}`,
      [tenantId, ...params, ...tailParams],
    );
    const platform = this.em.getPlatform();
    return rows.map((row) => contactFromRow(row, (value) => platform.parseDate(value) as Date));
  }

  /** As `syncRows`, but as entities in the current context (the caller changes and flushes them). */
  private syncEntities(tenantId: string, condition: string, list: string): Promise<Contact[]> {
    return this.em
      .createQueryBuilder(Contact, 'c')
      .select('*')
      .where({ tenant: tenantId })
      .andWhere(condition, [list])
      .getResultList();
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
