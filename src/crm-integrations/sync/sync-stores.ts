import { Inject, Injectable } from '@nestjs/common';
import { MikroORM, RequestContext, type EntityManager } from '@mikro-orm/postgresql';
import {
  Contact,
  CrmConnection,
  RecordLink,
  SyncCursorState,
  SyncLogEntry,
  SyncRetryItem,
  SyncRun,
  Tenant,
} from '@pm/domain';
import type { CrmRecord, SyncCursor } from '@pm/integration-port';
import {
  LOCAL_CONTACT_FIELDS,
  type CursorDirection,
  type CursorState,
  type CursorStore,
  type LinkSnapshot,
  type LinkStore,
  type LocalApplyResult,
  type LocalContact,
  type LocalContactChange,
  type LocalContactField,
  type LocalContactStore,
  type LocalPosition,
  type RetryItem,
  type RetryStore,
  type StoredRetryItem,
  type SyncConnection,
  type SyncLogLine,
  type SyncLogSink,
  type UnlinkReason,
} from '@pm/sync-engine';
import { ContactService } from '../contacts/contact.service';
import { CRM_ORM } from '../database/crm-database';
import { ContactRepository } from '../repositories';

/**
 * The engine's stores on MikroORM. Workers run outside HTTP requests, so every operation forks its own entity
 * manager: nothing is shared between runs, and each write is flushed (committed) before the engine goes on.
 */
abstract class ForkingStore {
  constructor(@Inject(CRM_ORM) protected readonly orm: MikroORM) {}

  protected fork(): EntityManager {
    return this.orm.em.fork() as EntityManager;
  }
}

function toSnapshot(link: RecordLink): LinkSnapshot {
  return {
    id: link.id,
    localObject: link.localObject,
    localId: link.localId,
    crmObject: link.crmObject,
    crmId: link.crmId,
    synced: link.synced,
    localUpdatedAt: link.localUpdatedAt ?? null,
    crmModifiedAt: link.crmModifiedAt ?? null,
    lastSyncedAt: link.lastSyncedAt ?? null,
  };
}

@Injectable()
export class MikroOrmLinkStore extends ForkingStore implements LinkStore {
  async findByCrmIds(connectionId: string, crmObject: string, crmIds: string[]): Promise<LinkSnapshot[]> {
    if (crmIds.length === 0) return [];
    const links = await this.fork().find(RecordLink, {
      connection: connectionId,
      crmObject,
      crmId: { $in: crmIds },
      unlinkedAt: null,
    });
    return links.map(toSnapshot);
  }

  async findByLocalIds(connectionId: string, localIds: string[]): Promise<LinkSnapshot[]> {
    if (localIds.length === 0) return [];
    const links = await this.fork().find(RecordLink, {
      connection: connectionId,
      localId: { $in: localIds },
      unlinkedAt: null,
    });
    return links.map(toSnapshot);
  }

  async findDeletedInCrmLocalIds(connectionId: string, localIds: string[]): Promise<string[]> {
    if (localIds.length === 0) return [];
    const links = await this.fork().find(
      RecordLink,
      { connection: connectionId, localId: { $in: localIds } },
      { fields: ['localId', 'unlinkedAt', 'unlinkReason'] },
    );
    const active = new Set(links.filter((link) => !link.unlinkedAt).map((link) => link.localId));
    const deletedInCrm = links.filter((link) => link.unlinkedAt && link.unlinkReason === 'deleted_in_crm');
    return [...new Set(deletedInCrm.filter((link) => !active.has(link.localId)).map((link) => link.localId))];
  }

  async save(connectionId: string, links: LinkSnapshot[]): Promise<void> {
    if (links.length === 0) return;
    const em = this.fork();
    const existing = await em.find(RecordLink, {
      connection: connectionId,
      $or: links.map((link) => ({ crmObject: link.crmObject, crmId: link.crmId })),
    });
    const byKey = new Map(existing.map((link) => [`${link.crmObject}|${link.crmId}`, link]));
    for (const snapshot of links) {
      const link =
        byKey.get(`${snapshot.crmObject}|${snapshot.crmId}`) ??
        em.create(RecordLink, {
          connection: em.getReference(CrmConnection, connectionId),
          localObject: snapshot.localObject,
          localId: snapshot.localId,
          crmObject: snapshot.crmObject,
          crmId: snapshot.crmId,
        });
      link.localId = snapshot.localId;
      link.synced = snapshot.synced;
      link.localUpdatedAt = snapshot.localUpdatedAt;
      link.crmModifiedAt = snapshot.crmModifiedAt;
      link.lastSyncedAt = snapshot.lastSyncedAt;
      link.unlinkedAt = null;
      link.unlinkReason = null;
    }
    await em.flush();
  }

  async unlink(
    connectionId: string,
    crmObject: string,
    crmId: string,
    reason: UnlinkReason,
    at: Date,
  ): Promise<void> {
    await this.fork().nativeUpdate(
      RecordLink,
      { connection: connectionId, crmObject, crmId, unlinkedAt: null },
      { unlinkedAt: at, unlinkReason: reason },
    );
  }
}

@Injectable()
export class MikroOrmCursorStore extends ForkingStore implements CursorStore {
  async load(connectionId: string, object: string, direction: CursorDirection): Promise<CursorState> {
    const state = await this.fork().findOne(SyncCursorState, { connection: connectionId, object, direction });
    return {
      value: state?.value ?? null,
      initialSyncCompletedAt: state?.initialSyncCompletedAt ?? null,
    };
  }

  async save(
    connectionId: string,
    object: string,
    direction: CursorDirection,
    value: SyncCursor | null,
    options: { initialSyncCompleted?: boolean } = {},
  ): Promise<void> {
    const em = this.fork();
    const state =
      (await em.findOne(SyncCursorState, { connection: connectionId, object, direction })) ??
      em.create(SyncCursorState, {
        connection: em.getReference(CrmConnection, connectionId),
        object,
        direction,
      });
    state.value = value ? { ...value } : null;
    if (options.initialSyncCompleted && !state.initialSyncCompletedAt)
      state.initialSyncCompletedAt = new Date();
    await em.flush();
  }
}

@Injectable()
export class MikroOrmRetryStore extends ForkingStore implements RetryStore {
  async list(connectionId: string, direction: CursorDirection): Promise<StoredRetryItem[]> {
    const items = await this.fork().find(
      SyncRetryItem,
      { connection: connectionId, direction },
      { orderBy: { firstFailedAt: 'asc' } },
    );
    return items.map((item) => ({
      direction: item.direction,
      object: item.object,
      recordId: item.recordId,
      recordKey: item.recordKey ?? null,
      error: item.lastError,
      attempts: item.attempts,
      payload: (item.payload as CrmRecord | null | undefined) ?? null,
    }));
  }

  async record(connectionId: string, items: RetryItem[]): Promise<void> {
    if (items.length === 0) return;
    const em = this.fork();
    const existing = await em.find(SyncRetryItem, {
      connection: connectionId,
      $or: items.map((item) => ({ direction: item.direction, object: item.object, recordId: item.recordId })),
    });
    const byKey = new Map(
      existing.map((item) => [`${item.direction}|${item.object}|${item.recordId}`, item]),
    );
    for (const item of items) {
      const found = byKey.get(`${item.direction}|${item.object}|${item.recordId}`);
      if (found) {
        found.attempts += 1;
        found.lastError = item.error;
        found.lastFailedAt = new Date();
        found.payload = (item.payload as unknown as Record<string, unknown> | undefined) ?? found.payload;
        continue;
      }
      const created = em.create(SyncRetryItem, {
        connection: em.getReference(CrmConnection, connectionId),
        direction: item.direction,
        object: item.object,
        recordId: item.recordId,
        recordKey: item.recordKey,
        lastError: item.error,
        payload: (item.payload as unknown as Record<string, unknown> | undefined) ?? null,
      });
      byKey.set(`${item.direction}|${item.object}|${item.recordId}`, created);
    }
    await em.flush();
  }

  async clear(
    connectionId: string,
    direction: CursorDirection,
    object: string,
    recordIds: string[],
  ): Promise<void> {
    if (recordIds.length === 0) return;
    await this.fork().nativeDelete(SyncRetryItem, {
      connection: connectionId,
      direction,
      object,
      recordId: { $in: recordIds },
    });
  }
}

@Injectable()
export class MikroOrmSyncLog extends ForkingStore implements SyncLogSink {
  async write(connection: SyncConnection, runId: string | null, lines: SyncLogLine[]): Promise<void> {
    if (lines.length === 0) return;
    const em = this.fork();
    const at = new Date();
    for (const line of lines) {
      em.create(SyncLogEntry, {
        tenant: em.getReference(Tenant, connection.tenantId),
        connection: em.getReference(CrmConnection, connection.id),
        run: runId ? em.getReference(SyncRun, runId) : null,
        at,
        direction: line.direction,
        object: line.object,
        recordKey: line.recordKey,
        action: line.action,
        message: line.message,
        details: line.details ?? null,
      });
    }
    await em.flush();
  }
}

export function toLocalContact(contact: Contact): LocalContact {
  const values = {} as Record<LocalContactField, string | null>;
  for (const field of LOCAL_CONTACT_FIELDS)
    values[field] = (contact[field] as string | null | undefined) ?? null;
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
export class MikroOrmLocalContactStore implements LocalContactStore {
  constructor(
    @Inject(CRM_ORM) private readonly orm: MikroORM,
    private readonly contacts: ContactService,
    private readonly repository: ContactRepository,
  ) {}

  private inContext<T>(work: () => Promise<T>): Promise<T> {
    return RequestContext.create(this.orm.em, work);
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
    const contacts = await this.inContext(() => this.repository.findManyByIdsForSync(tenantId, ids));
    return contacts.map(toLocalContact);
  }

  async findByEmails(tenantId: string, emails: string[]): Promise<LocalContact[]> {
    const contacts = await this.inContext(() => this.repository.findManyByEmailsForSync(tenantId, emails));
    return contacts.map(toLocalContact);
  }

  async apply(tenantId: string, changes: LocalContactChange[]): Promise<LocalApplyResult[]> {
    if (changes.length === 0) return [];
    try {
      // The whole page in one transaction: the common case, and the fast one.
      const results = await this.inContext(() => this.contacts.applySyncedValuesMany(tenantId, changes));
      return results.map((result, index): LocalApplyResult => {
        const key = changes[index].key;
        return result.ok
          ? { key, ok: true, contact: toLocalContact(result.contact), created: result.created }
          : { key, ok: false, message: result.message };
      });
    } catch {
      // The database refused the page (a constraint): apply change by change, so only the culprit fails.
      return this.applyOneByOne(tenantId, changes);
    }
  }

  private async applyOneByOne(tenantId: string, changes: LocalContactChange[]): Promise<LocalApplyResult[]> {
    const results: LocalApplyResult[] = [];
    for (const change of changes) {
      try {
        const { contact, created } = await this.inContext(() =>
          this.contacts.applySyncedValues(tenantId, {
            contactId: change.contactId,
            email: change.email,
            values: change.values,
          }),
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

  async markDeleted(tenantId: string, contactId: string): Promise<void> {
    await this.inContext(() => this.contacts.markDeletedBySync(tenantId, contactId));
  }
}

export const SYNC_STORES = [
  MikroOrmLinkStore,
  MikroOrmCursorStore,
  MikroOrmRetryStore,
  MikroOrmSyncLog,
  MikroOrmLocalContactStore,
];
