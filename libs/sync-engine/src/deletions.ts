import type { DeletedRecord, DeleteResult } from '@pm/integration-port';
import type { LinkSnapshot, LocalContact, RetryItem } from './ports';
import type { SyncRunScope } from './sync-run-scope';

/** A local contact deleted in PenguinMails, with one of its active links. */
export interface LocalDeletion {
  contact: LocalContact;
  link: LinkSnapshot;
}

/**
 * Deletions, both ways. A record deleted on one side ends its link; with `propagateDeletes` the other side's record
 * is deleted too, and without it the other side keeps its record and the log says so.
 */
export class Deletions {
  constructor(private readonly run: SyncRunScope) {}

  /** Records the CRM reported deleted: their links end; with `propagateDeletes`, their local contacts go too. */
  async deletedInCrm(object: string, deleted: DeletedRecord[]): Promise<void> {
    if (deleted.length === 0) return;
    const { connection, journal } = this.run;
    const links = await this.run.links.findByCrmIds(
      connection.id,
      object,
      deleted.map((record) => record.id),
    );
    if (links.length === 0) return;
    const locals = new Map(
      (
        await this.run.locals.findByIds(
          connection.tenantId,
          links.map((link) => link.localId),
        )
      ).map((contact) => [contact.id, contact]),
    );
    const counts = journal.count('from_crm', object);
    const propagate = connection.settings.propagateDeletes && connection.settings.direction !== 'to_crm';
    for (const link of links) {
      const local = locals.get(link.localId);
      const key = local?.email ?? link.crmId;
      await this.run.links.unlink(connection.id, object, link.crmId, 'deleted_in_crm', this.run.now());
      counts.deleted++;
      if (propagate && local && !local.deletedAt) {
        await this.run.locals.markDeleted(connection.tenantId, link.localId, {
          connectionId: connection.id,
          provider: connection.provider,
        });
      }
      journal.log({
        direction: 'from_crm',
        object,
        recordKey: key,
        action: propagate ? 'deleted' : 'unlinked',
        message: propagate
          ? `Contact deleted: ${key} ← ${this.run.crmName}`
          : `Contact unlinked: ${key} was deleted in ${this.run.crmName}; kept in PenguinMails`,
        details: { crmId: link.crmId },
      });
    }
  }

  /**
   * Contacts deleted in PenguinMails. With `propagateDeletes`, their CRM records are deleted first (one
   * `deleteRecords` call per object; the connector batches at the CRM's limit) and each link ends only once its
   * record is gone: a record the CRM refuses to delete is logged with the CRM's message, stays linked, and is tried
   * again next run. Without it, the links end and the CRM records stay.
   */
  async deletedLocally(deletions: LocalDeletion[]): Promise<void> {
    if (deletions.length === 0) return;
    const { connection, journal } = this.run;
    const propagate = connection.settings.propagateDeletes;
    const objects = [...new Set(deletions.map((deletion) => deletion.link.crmObject))];
    const results = new Map<string, Map<string, DeleteResult>>();
    if (propagate) {
      for (const object of objects) {
        const ids = deletions
          .filter((deletion) => deletion.link.crmObject === object)
          .map((deletion) => deletion.link.crmId);
        results.set(object, await this.run.crm.deleteRecords(object, [...new Set(ids)]));
      }
    }
    const retryLater: RetryItem[] = [];
    const deleted = new Map<string, string[]>(objects.map((object) => [object, []]));
    for (const { contact, link } of deletions) {
      const object = link.crmObject;
      const counts = journal.count('to_crm', object);
      if (propagate) {
        const result = results.get(object)?.get(link.crmId);
        if (!result?.ok) {
          const error = result && !result.ok ? result.error : undefined;
          const message = error?.message ?? 'no result returned';
          counts.errors++;
          retryLater.push({
            direction: 'to_crm',
            object,
            recordId: contact.id,
            recordKey: contact.email,
            error: message,
          });
          journal.log({
            direction: 'to_crm',
            object,
            recordKey: contact.email,
            action: 'error',
            message: `Contact not deleted: ${contact.email} → ${this.run.crmName}: ${message}`,
            details: { crmId: link.crmId, code: error?.code, crmCode: error?.crmCode },
          });
          continue;
        }
      }
      await this.run.links.unlink(
        connection.id,
        object,
        link.crmId,
        'deleted_in_penguinmails',
        this.run.now(),
      );
      counts.deleted++;
      deleted.get(object)?.push(contact.id);
      journal.log({
        direction: 'to_crm',
        object,
        recordKey: contact.email,
        action: propagate ? 'deleted' : 'unlinked',
        message: propagate
          ? `Contact deleted: ${contact.email} → ${this.run.crmName}`
          : `Contact unlinked: ${contact.email} was deleted in PenguinMails; kept in ${this.run.crmName}`,
        details: { crmId: link.crmId, propagateDeletes: propagate },
      });
    }
    await journal.retryLater(retryLater);
    for (const [object, ids] of deleted) await journal.succeeded('to_crm', object, ids);
  }
}
