import { Inject, Injectable, NotFoundException, Optional } from '@nestjs/common';
import { CONTACT_TEXT_FIELDS, normaliseEmail, type Contact } from '@pm/domain';
import type { LocalChangeOrigin } from '@pm/sync-engine';
import { customFieldName } from '@pm/integration-port';
import type { AuthContext } from '../auth/auth-context';
import { ContactChangeRepository, ContactRepository, type NewContactChange } from '../repositories';
import { TenantService } from '../tenants/tenant.service';
import { CONTACT_PUSH_NOTIFIER, type ContactPushNotifier } from './contact-push-notifier';
import { ValidationProblem } from '../http/problem-details.filter';
import {
  ContactResponseDto,
  type ContactFieldsDto,
  type ContactPageDto,
  type ListContactsQuery,
  type UpdateContactDto,
  type UpsertContactDto,
} from './contact.dto';

const FIELDS = CONTACT_TEXT_FIELDS;

/** The contact fields sync may set: the e-mail and every field the API may set. */
export type SyncedContactField = 'email' | (typeof FIELDS)[number];

export interface SyncedContactChange {
  /** Absent: the contact with this e-mail, or a new one. */
  contactId?: string;
  email: string;
  /** Standard fields by name; custom fields as `customFields.<name>` (null removes the key). */
  values: Partial<Record<SyncedContactField, string | null>> & Partial<Record<string, string | null>>;
}

/** A page's new contacts (built outside the unit of work) and feed entries, inserted natively at its flush. */
interface PageInserts {
  contacts: Contact[];
  changes: NewContactChange[];
}

/**
 * The PenguinMails side of contact sync. The HTTP API and the sync engine both change contacts through here, so
 * normalisation and change tracking (`updatedAt`) are the same whoever writes.
 */
@Injectable()
export class ContactService {
  constructor(
    private readonly contacts: ContactRepository,
    private readonly tenants: TenantService,
    private readonly changes: ContactChangeRepository,
    @Optional() @Inject(CONTACT_PUSH_NOTIFIER) private readonly push?: ContactPushNotifier,
  ) {}

  async list(_auth: AuthContext, tenantId: string, query: ListContactsQuery): Promise<ContactPageDto> {
    await this.tenants.require(tenantId);
    const limit = query.limit ?? 100;
    const page = await this.contacts.page({
      tenantId,
      limit,
      email: query.email,
      after: decodeCursor(query.cursor),
    });
    const last = page.at(-1);
    return {
      data: page.map((contact) => ContactResponseDto.from(contact)),
      nextCursor: page.length === limit && last ? encodeCursor(last) : null,
    };
  }

  async get(_auth: AuthContext, tenantId: string, contactId: string): Promise<ContactResponseDto> {
    return ContactResponseDto.from(await this.require(tenantId, contactId));
  }

  /** Creates the contact, or updates the one with the same (normalised) e-mail. */
  async upsert(
    _auth: AuthContext,
    tenantId: string,
    dto: UpsertContactDto,
  ): Promise<{ contact: ContactResponseDto; created: boolean }> {
    await this.tenants.require(tenantId);
    const existing = await this.contacts.findByEmail(tenantId, dto.email);
    if (existing && !existing.deletedAt) {
      applyFields(existing, dto);
      await this.contacts.flush();
      await this.push?.contactsChanged(tenantId, [existing.id]);
      return { contact: ContactResponseDto.from(existing), created: false };
    }
    if (existing) {
      // A deleted contact comes back as itself, so its CRM links and history still apply.
      existing.deletedAt = null;
      applyFields(existing, dto);
      await this.contacts.flush();
      await this.push?.contactsChanged(tenantId, [existing.id]);
      return { contact: ContactResponseDto.from(existing), created: true };
    }
    const contact = this.contacts.create(tenantId, dto.email);
    applyFields(contact, dto);
    await this.contacts.flush();
    await this.push?.contactsChanged(tenantId, [contact.id]);
    return { contact: ContactResponseDto.from(contact), created: true };
  }

  async update(
    _auth: AuthContext,
    tenantId: string,
    contactId: string,
    dto: UpdateContactDto,
  ): Promise<ContactResponseDto> {
    const contact = await this.require(tenantId, contactId);
    if (dto.email && normaliseEmail(dto.email) !== contact.email) {
      const clash = await this.contacts.findByEmail(tenantId, dto.email);
      if (clash) {
        throw new ValidationProblem([
          { name: 'email', reason: 'another contact of this tenant has this e-mail' },
        ]);
      }
      contact.email = normaliseEmail(dto.email);
    }
    applyFields(contact, dto);
    await this.contacts.flush();
    await this.push?.contactsChanged(tenantId, [contact.id]);
    return ContactResponseDto.from(contact);
  }

  async remove(_auth: AuthContext, tenantId: string, contactId: string): Promise<void> {
    const contact = await this.require(tenantId, contactId);
    contact.deletedAt = new Date();
    await this.contacts.flush();
    await this.push?.contactsChanged(tenantId, [contact.id]);
  }

  /**
   * For the sync engine: sets synced values on a contact (found by id, else by e-mail, else created), with the same
   * normalisation and `updatedAt` tracking as the API. Throws with a plain message when the change cannot apply.
   */
  async applySyncedValues(
    tenantId: string,
    change: SyncedContactChange,
    origin?: LocalChangeOrigin,
  ): Promise<{ contact: Contact; created: boolean }> {
    const result = await this.stageSyncedValues(tenantId, change, undefined, origin);
    await this.flushSynced(tenantId, origin);
    return result;
  }

  /**
   * For the sync engine: a page of changes in one transaction. A change that cannot apply is reported and left out;
   * should the database refuse the whole flush, it throws and the caller applies the page change by change.
   */
  async applySyncedValuesMany(
    tenantId: string,
    changes: SyncedContactChange[],
    origin?: LocalChangeOrigin,
  ): Promise<({ ok: true; contact: Contact; created: boolean } | { ok: false; message: string })[]> {
    // Two queries for the whole page instead of one or two per contact.
    const ids = changes.flatMap((change) => (change.contactId ? [change.contactId] : []));
    const emails = changes.flatMap((change) => [
      change.email,
      ...(change.values.email ? [change.values.email] : []),
    ]);
    const known = new Map<string, Contact>();
    for (const contact of await this.contacts.findManyByIdsForSync(tenantId, ids))
      known.set(`id:${contact.id}`, contact);
    for (const contact of await this.contacts.findManyByEmailsForSync(tenantId, emails)) {
      known.set(`email:${contact.email}`, contact);
    }
    // A CRM's page: its new contacts and feed entries go in as native multi-row inserts beside the unit of work's
    // updates (a first sync's pages are all new contacts; an entity, change set and snapshot each cost more than the
    // write itself), in the same transaction under the feed lock, feed entries in staging order.
    const inserts: PageInserts | undefined = origin ? { contacts: [], changes: [] } : undefined;
    const results: ({ ok: true; contact: Contact; created: boolean } | { ok: false; message: string })[] = [];
    for (const change of changes) {
      try {
        const result = await this.stageSyncedValues(tenantId, change, known, origin, inserts);
        known.set(`email:${result.contact.email}`, result.contact);
        results.push({ ok: true, ...result });
      } catch (error) {
        results.push({ ok: false, message: error instanceof Error ? error.message : String(error) });
      }
    }
    if (inserts) {
      await this.changes.flushInFeedOrder(tenantId, async () => {
        await this.contacts.insertBuilt(tenantId, inserts.contacts);
        await this.changes.insertMany(tenantId, inserts.changes);
      });
    } else await this.flushSynced(tenantId, origin);
    return results;
  }

  /**
   * Stages one change; `known` holds contacts already loaded (`id:…`, `email:…`), so lookups skip the database. A
   * change from a CRM (`origin`) that moves anything is staged in the change feed too, naming the fields it moved.
   */
  private async stageSyncedValues(
    tenantId: string,
    change: SyncedContactChange,
    known?: Map<string, Contact>,
    origin?: LocalChangeOrigin,
    inserts?: PageInserts,
  ): Promise<{ contact: Contact; created: boolean }> {
    const byEmail = async (email: string) =>
      known
        ? (known.get(`email:${normaliseEmail(email)}`) ?? null)
        : this.contacts.findByEmail(tenantId, email);
    let contact = change.contactId
      ? known
        ? (known.get(`id:${change.contactId}`) ?? null)
        : await this.contacts.findByIdIncludingDeleted(tenantId, change.contactId)
      : await byEmail(change.email);
    let created = false;
    if (!contact) {
      if (change.contactId) throw new Error(`Contact "${change.contactId}" does not exist for this tenant`);
      if (inserts) {
        contact = this.contacts.build(change.email);
        inserts.contacts.push(contact);
      } else contact = this.contacts.create(tenantId, change.email);
      created = true;
    }
    const before = created ? null : snapshot(contact);
    const newEmail = change.values.email ? normaliseEmail(change.values.email) : undefined;
    if (newEmail && newEmail !== contact.email) {
      const clash = await byEmail(newEmail);
      if (clash && clash.id !== contact.id) {
        throw new Error(`Another contact of this tenant already has the e-mail ${newEmail}`);
      }
      known?.delete(`email:${contact.email}`);
      contact.email = newEmail;
    }
    for (const field of FIELDS) {
      if (field in change.values) contact[field] = change.values[field] ?? null;
    }
    if (origin) this.stageFeedEntry(tenantId, contact, before, origin, inserts);
    applyCustomValues(contact, change.values);
    return { contact, created };
  }

  private stageFeedEntry(
    tenantId: string,
    contact: Contact,
    before: Record<SyncedContactField, string | null> | null,
    origin: LocalChangeOrigin,
    inserts?: PageInserts,
  ): void {
    const after = snapshot(contact);
    const fields = (Object.keys(after) as SyncedContactField[]).filter((field) =>
      before ? before[field] !== after[field] : after[field] !== null,
    );
    if (before && fields.length === 0) return;
    const entry: NewContactChange = {
      contactId: contact.id,
      connectionId: origin.connectionId,
      provider: origin.provider,
      kind: before ? 'updated' : 'created',
      email: contact.email,
      fields,
      values: Object.fromEntries(fields.map((field) => [field, after[field]])),
    };
    if (inserts) inserts.changes.push(entry);
    else this.changes.stage(tenantId, entry);
  }

  /** Changes from a CRM go out with their feed entries, in feed order; others are a plain flush. */
  private flushSynced(tenantId: string, origin?: LocalChangeOrigin): Promise<void> {
    return origin ? this.changes.flushInFeedOrder(tenantId) : this.contacts.flush();
  }

  /** For the sync engine: soft-deletes a contact whose CRM record was deleted (when the connection says so). */
  async markDeletedBySync(tenantId: string, contactId: string, origin?: LocalChangeOrigin): Promise<void> {
    const contact = await this.contacts.findByIdIncludingDeleted(tenantId, contactId);
    if (!contact || contact.deletedAt) return;
    contact.deletedAt = new Date();
    if (origin) {
      this.changes.stage(tenantId, {
        contactId: contact.id,
        connectionId: origin.connectionId,
        provider: origin.provider,
        kind: 'deleted',
        email: contact.email,
        fields: [],
        values: {},
      });
    }
    await this.flushSynced(tenantId, origin);
  }

  private async require(tenantId: string, contactId: string): Promise<Contact> {
    await this.tenants.require(tenantId);
    const contact = await this.contacts.findById(tenantId, contactId);
    if (!contact) throw new NotFoundException(`Contact "${contactId}" does not exist for this tenant`);
    return contact;
  }
}

function snapshot(contact: Contact): Record<SyncedContactField, string | null> {
  const values = { email: contact.email } as Record<SyncedContactField, string | null>;
  for (const field of FIELDS) values[field] = (contact[field] as string | null | undefined) ?? null;
  return values;
}

/**
 * Synced custom fields (`customFields.<name>`) into a contact's (or a company's) `customFields`; a null value
 * removes the key.
 */
export function applyCustomValues(
  contact: { customFields: Record<string, unknown> },
  values: Partial<Record<string, string | null>>,
): void {
  const next = { ...contact.customFields };
  let changed = false;
  for (const [field, value] of Object.entries(values)) {
    const name = customFieldName(field);
    if (name === undefined) continue;
    changed = true;
    if (value === null || value === undefined) delete next[name];
    else next[name] = value;
  }
  if (changed) contact.customFields = next;
}

export function applyFields(contact: Contact, dto: ContactFieldsDto): void {
  for (const field of FIELDS) {
    if (dto[field] !== undefined) contact[field] = dto[field];
  }
  if (dto.customFields !== undefined) contact.customFields = { ...contact.customFields, ...dto.customFields };
}

function encodeCursor(contact: Contact): string {
  return Buffer.from(`${contact.updatedAt.toISOString()}|${contact.id}`, 'utf8').toString('base64url');
}

const CURSOR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** PostgreSQL's timestamptz and JavaScript's Date agree on years 1..9999; a cursor outside is not ours. */
const CURSOR_YEARS = { min: 1970, max: 9999 };

function decodeCursor(cursor?: string): { updatedAt: Date; id: string } | undefined {
  if (!cursor) return undefined;
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const updatedAt = new Date(at);
  const year = updatedAt.getUTCFullYear();
  if (
    !id ||
    !CURSOR_ID.test(id) ||
    Number.isNaN(updatedAt.getTime()) ||
    year < CURSOR_YEARS.min ||
    year > CURSOR_YEARS.max
  ) {
    throw new ValidationProblem([{ name: 'cursor', reason: 'is not a cursor this API returned' }]);
  }
  return { updatedAt, id };
}
