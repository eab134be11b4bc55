import { randomUUID } from 'node:crypto';
import type { SyncCursor } from '@pm/integration-port';
import { LOCAL_CONTACT_FIELDS, normaliseLocalValue, type LocalContactField } from '../field-mapping';
import type {
  CursorDirection,
  CursorState,
  CursorStore,
  LinkSnapshot,
  LinkStore,
  LocalApplyResult,
  LocalContact,
  LocalContactChange,
  LocalContactStore,
  LocalPosition,
  RetryItem,
  RetryStore,
  StoredRetryItem,
  SyncConnection,
  SyncLogLine,
  SyncLogSink,
  UnlinkReason,
} from '../ports';

/** The engine's stores in memory, for unit tests of the runner (the MikroORM ones are tested on PostgreSQL). */

export class InMemoryLinkStore implements LinkStore {
  readonly links: (LinkSnapshot & {
    connectionId: string;
    unlinkedAt: Date | null;
    unlinkReason?: UnlinkReason;
  })[] = [];

  async findByCrmIds(connectionId: string, crmObject: string, crmIds: string[]): Promise<LinkSnapshot[]> {
    return this.active(connectionId).filter((l) => l.crmObject === crmObject && crmIds.includes(l.crmId));
  }

  async findByLocalIds(
    connectionId: string,
    localIds: string[],
    localObject = 'contact',
  ): Promise<LinkSnapshot[]> {
    return this.active(connectionId).filter(
      (l) => l.localObject === localObject && localIds.includes(l.localId),
    );
  }

  async findDeletedInCrmLocalIds(
    connectionId: string,
    localIds: string[],
    localObject = 'contact',
  ): Promise<string[]> {
    const active = new Set(this.active(connectionId).map((l) => l.localId));
    return [
      ...new Set(
        this.links
          .filter(
            (l) =>
              l.connectionId === connectionId &&
              l.localObject === localObject &&
              l.unlinkReason === 'deleted_in_crm' &&
              l.unlinkedAt !== null &&
              localIds.includes(l.localId),
          )
          .map((l) => l.localId)
          .filter((id) => !active.has(id)),
      ),
    ];
  }

  async save(connectionId: string, links: LinkSnapshot[]): Promise<void> {
    for (const link of links) {
      const existing = this.links.find(
        (l) => l.connectionId === connectionId && l.crmObject === link.crmObject && l.crmId === link.crmId,
      );
      if (existing) Object.assign(existing, structuredClone(link), { unlinkedAt: null });
      else this.links.push({ ...structuredClone(link), id: randomUUID(), connectionId, unlinkedAt: null });
    }
  }

  async unlink(
    connectionId: string,
    crmObject: string,
    crmId: string,
    reason: UnlinkReason,
    at: Date,
  ): Promise<void> {
    const link = this.links.find(
      (l) => l.connectionId === connectionId && l.crmObject === crmObject && l.crmId === crmId,
    );
    if (link) Object.assign(link, { unlinkedAt: at, unlinkReason: reason });
  }

  private active(connectionId: string) {
    return this.links
      .filter((l) => l.connectionId === connectionId && l.unlinkedAt === null)
      .map((l) => structuredClone(l));
  }
}

export class InMemoryCursorStore implements CursorStore {
  readonly states = new Map<string, CursorState>();

  async load(connectionId: string, object: string, direction: CursorDirection): Promise<CursorState> {
    return structuredClone(
      this.states.get(`${connectionId}|${object}|${direction}`) ?? {
        value: null,
        initialSyncCompletedAt: null,
      },
    );
  }

  async save(
    connectionId: string,
    object: string,
    direction: CursorDirection,
    value: SyncCursor | null,
    options: { initialSyncCompleted?: boolean } = {},
  ): Promise<void> {
    const key = `${connectionId}|${object}|${direction}`;
    const previous = this.states.get(key);
    this.states.set(key, {
      value: value && { ...value },
      initialSyncCompletedAt:
        previous?.initialSyncCompletedAt ?? (options.initialSyncCompleted ? new Date() : null),
    });
  }
}

export class InMemoryRetryStore implements RetryStore {
  readonly items: (StoredRetryItem & { connectionId: string })[] = [];

  async list(connectionId: string, direction: CursorDirection): Promise<StoredRetryItem[]> {
    return this.items.filter((i) => i.connectionId === connectionId && i.direction === direction);
  }

  async record(connectionId: string, items: RetryItem[]): Promise<void> {
    for (const item of items) {
      const existing = this.items.find(
        (i) =>
          i.connectionId === connectionId &&
          i.direction === item.direction &&
          i.object === item.object &&
          i.recordId === item.recordId,
      );
      if (existing) Object.assign(existing, item, { attempts: existing.attempts + 1 });
      else this.items.push({ ...item, connectionId, attempts: 1 });
    }
  }

  async clear(
    connectionId: string,
    direction: CursorDirection,
    object: string,
    recordIds: string[],
  ): Promise<void> {
    for (let index = this.items.length - 1; index >= 0; index--) {
      const i = this.items[index];
      if (
        i.connectionId === connectionId &&
        i.direction === direction &&
        i.object === object &&
        recordIds.includes(i.recordId)
      )
        this.items.splice(index, 1);
    }
  }
}

export class MemorySyncLog implements SyncLogSink {
  readonly lines: (SyncLogLine & { runId: string | null })[] = [];

  async write(_connection: SyncConnection, runId: string | null, lines: SyncLogLine[]): Promise<void> {
    this.lines.push(...lines.map((line) => ({ ...line, runId })));
  }

  messages(): string[] {
    return this.lines.map((line) => line.message);
  }
}

/** PenguinMails contacts in memory, with a clock that moves forward on every write like `updatedAt` does. */
export class InMemoryLocalContacts implements LocalContactStore {
  readonly contacts: LocalContact[] = [];
  private tick = Date.parse('2026-01-01T00:00:00Z');

  constructor(private readonly tenantId = 'acme') {}

  nextStamp(): Date {
    this.tick += 1_000;
    return new Date(this.tick);
  }

  /** A person editing the contact in PenguinMails. */
  edit(email: string, values: Partial<Record<LocalContactField, string | null>>): LocalContact {
    const contact = this.byEmail(email);
    if (!contact) throw new Error(`no local contact ${email}`);
    Object.assign(contact.values, values);
    contact.updatedAt = this.nextStamp();
    return contact;
  }

  add(email: string, values: Partial<Record<LocalContactField, string | null>> = {}): LocalContact {
    const contact: LocalContact = {
      id: randomUUID(),
      email,
      values: {
        ...(Object.fromEntries(LOCAL_CONTACT_FIELDS.map((f) => [f, null])) as Record<
          LocalContactField,
          null
        >),
        ...values,
        email,
      },
      updatedAt: this.nextStamp(),
      deletedAt: null,
    };
    this.contacts.push(contact);
    return contact;
  }

  byEmail(email: string): LocalContact | undefined {
    return this.contacts.find((contact) => contact.email === email);
  }

  async changedSince(_tenantId: string, after: LocalPosition | null, limit: number): Promise<LocalContact[]> {
    return this.contacts
      .filter((c) => {
        if (!after) return true;
        const at = Date.parse(after.updatedAt);
        const t = c.updatedAt.getTime();
        return after.id === undefined ? t >= at : t > at || (t === at && c.id > after.id);
      })
      .sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime() || (a.id < b.id ? -1 : 1))
      .slice(0, limit)
      .map((c) => structuredClone(c));
  }

  async findByIds(_tenantId: string, ids: string[]): Promise<LocalContact[]> {
    return this.contacts.filter((c) => ids.includes(c.id)).map((c) => structuredClone(c));
  }

  async findByEmails(_tenantId: string, emails: string[]): Promise<LocalContact[]> {
    return this.contacts.filter((c) => emails.includes(c.email)).map((c) => structuredClone(c));
  }

  async findByCustomField(_tenantId: string, name: string, values: string[]): Promise<LocalContact[]> {
    return this.contacts
      .filter((c) => values.includes(c.values[`customFields.${name}`]?.trim() ?? ''))
      .map((c) => structuredClone(c));
  }

  async apply(_tenantId: string, changes: LocalContactChange[]): Promise<LocalApplyResult[]> {
    return changes.map((change): LocalApplyResult => {
      let contact = change.contactId
        ? this.contacts.find((c) => c.id === change.contactId)
        : this.byEmail(change.email);
      const created = !contact;
      if (!contact) contact = this.add(normaliseLocalValue('email', change.email) as string);
      for (const [field, value] of Object.entries(change.values)) {
        if (field === 'email' && value) contact.email = value;
        contact.values[field as LocalContactField] = value ?? null;
      }
      contact.updatedAt = this.nextStamp();
      return { key: change.key, ok: true, contact: structuredClone(contact), created };
    });
  }

  async markDeleted(_tenantId: string, contactId: string): Promise<void> {
    const contact = this.contacts.find((c) => c.id === contactId);
    if (contact) {
      contact.deletedAt = new Date();
      contact.updatedAt = this.nextStamp();
    }
  }

  get tenant(): string {
    return this.tenantId;
  }
}
