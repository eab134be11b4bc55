import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Contact } from '@pm/domain';
import {
  CUSTOM_FIELD_PREFIX,
  LOCAL_CONTACT_FIELDS,
  type LocalApplyResult,
  type LocalChangeOrigin,
  type LocalContact,
  type LocalContactChange,
  type LocalContactField,
  type LocalContactStore,
  type LocalPosition,
} from '@pm/sync-engine';
import { CONTACT_CHANGE_LISTENER, type ContactChangeListener } from '../contacts/contact-change-listener';
import { ContactService } from '../contacts/contact.service';
import { ContactRepository, type ContactSyncRow } from '../repositories';

/** A custom field's value as the engine compares it: text (numbers, booleans and objects as text), null when empty. */
export function customFieldText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.trim() === '' ? null : text.trim();
}

export function toLocalContact(contact: Contact | ContactSyncRow): LocalContact {
  const values = {} as LocalContact['values'];
  for (const field of LOCAL_CONTACT_FIELDS)
    values[field] = (contact[field] as string | null | undefined) ?? null;
  for (const [name, value] of Object.entries(contact.customFields ?? {})) {
    values[`${CUSTOM_FIELD_PREFIX}${name}` as LocalContactField] = customFieldText(value);
  }
  return {
    id: contact.id,
    email: contact.email,
    values,
    updatedAt: contact.updatedAt,
    deletedAt: contact.deletedAt ?? null,
  };
}

/**
 * PenguinMails contacts for the engine. Writes go through `ContactService`, the same code the HTTP API uses; each
 * change runs in its own context, so one contact the database refuses never undoes the others.
 */
@Injectable()
export class LocalContactStoreAdapter implements LocalContactStore {
  private readonly logger = new Logger('LocalContactStore');

  constructor(
    private readonly contacts: ContactService,
    private readonly repository: ContactRepository,
    @Optional() @Inject(CONTACT_CHANGE_LISTENER) private readonly listener?: ContactChangeListener,
  ) {}

  /** Tells the listener (webhooks) that the tenant's change feed may have grown; it never fails the sync. */
  private async changed(tenantId: string, origin?: LocalChangeOrigin): Promise<void> {
    if (!origin || !this.listener) return;
    await this.listener.changesRecorded(tenantId).catch((error: unknown) => {
      this.logger.warn(
        `Could not announce contact changes: ${error instanceof Error ? error.message : error}`,
      );
    });
  }

  private inContext<T>(work: () => Promise<T>): Promise<T> {
    return this.repository.inOwnContext(work);
  }

  async changedSince(tenantId: string, after: LocalPosition | null, limit: number): Promise<LocalContact[]> {
    const contacts = await this.inContext(() =>
      this.repository.changedSinceForSync(
        tenantId,
        after ? { updatedAt: new Date(after.updatedAt), id: after.id } : null,
        limit,
      ),
    );
    return contacts.map(toLocalContact);
  }

  async findByIds(tenantId: string, ids: string[]): Promise<LocalContact[]> {
    const contacts = await this.inContext(() => this.repository.findRowsByIdsForSync(tenantId, ids));
    return contacts.map(toLocalContact);
  }

  async findByEmails(tenantId: string, emails: string[]): Promise<LocalContact[]> {
    const contacts = await this.inContext(() => this.repository.findRowsByEmailsForSync(tenantId, emails));
    return contacts.map(toLocalContact);
  }

  async findByCustomField(tenantId: string, name: string, values: string[]): Promise<LocalContact[]> {
    const wanted = new Set(values);
    const contacts = await this.inContext(() =>
      this.repository.findRowsByCustomFieldForSync(tenantId, name, values),
    );
    // Containment matched the value's JSON form; the key compares its trimmed text, as the engine does.
    return contacts
      .map(toLocalContact)
      .filter((contact) => wanted.has(contact.values[`customFields.${name}`]?.trim() ?? ''));
  }

  async apply(
    tenantId: string,
    changes: LocalContactChange[],
    origin?: LocalChangeOrigin,
  ): Promise<LocalApplyResult[]> {
    if (changes.length === 0) return [];
    const results = await this.applyAll(tenantId, changes, origin);
    await this.changed(tenantId, origin);
    return results;
  }

  private async applyAll(
    tenantId: string,
    changes: LocalContactChange[],
    origin?: LocalChangeOrigin,
  ): Promise<LocalApplyResult[]> {
    try {
      // The whole page in one transaction: the common case, and the fast one.
      const results = await this.inContext(() =>
        this.contacts.applySyncedValuesMany(tenantId, changes, origin),
      );
      return results.map((result, index): LocalApplyResult => {
        const key = changes[index].key;
        return result.ok
          ? { key, ok: true, contact: toLocalContact(result.contact), created: result.created }
          : { key, ok: false, message: result.message };
      });
    } catch {
      // The database refused the page (a constraint): apply change by change, so only the culprit fails.
      return this.applyOneByOne(tenantId, changes, origin);
    }
  }

  private async applyOneByOne(
    tenantId: string,
    changes: LocalContactChange[],
    origin?: LocalChangeOrigin,
  ): Promise<LocalApplyResult[]> {
    const results: LocalApplyResult[] = [];
    for (const change of changes) {
      try {
        const { contact, created } = await this.inContext(() =>
          this.contacts.applySyncedValues(
            tenantId,
            {
              contactId: change.contactId,
              email: change.email,
              values: change.values,
            },
            origin,
          ),
        );
        results.push({ key: change.key, ok: true, contact: toLocalContact(contact), created });
      } catch (error) {
        results.push({
          key: change.key,
          ok: false,
          message: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return results;
  }

  async markDeleted(tenantId: string, contactId: string, origin?: LocalChangeOrigin): Promise<void> {
    await this.inContext(() => this.contacts.markDeletedBySync(tenantId, contactId, origin));
    await this.changed(tenantId, origin);
  }
}
