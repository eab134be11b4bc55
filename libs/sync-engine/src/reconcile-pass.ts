import { inBatches } from '@pm/connector-kit';
import type { ReconcileDrift, ReconcileObjectDrift } from '@pm/domain/model';
import { Deletions } from './deletions';
import { crmFieldsToRead } from './field-mapping';
import { InboundPass } from './inbound-pass';
import { OutboundBatch } from './outbound-batch';
import type { LinkSnapshot, LocalContact, LocalPosition } from './ports';
import { noDrift, reconcileLine } from './reconcile-report';
import { LOCAL_CONTACT_OBJECT, type SyncRunScope } from './sync-run-scope';

/** Ids per store look-up and per repair batch. */
const CHUNK = 500;

/** Below this many missing records, no share of the links is treated as a sign of the wrong account. */
const MASS_MISSING_MIN = 20;

/** Both sides as the reconcile read them: every local contact, their active links, and the cursors' reach. */
interface LocalSide {
  contacts: LocalContact[];
  byId: Map<string, LocalContact>;
  links: LinkSnapshot[];
  /** How far the outbound read has come (ms); null before the first. Later changes are the next run's work. */
  pushedUpTo: number | null;
}

/**
 * The reconcile: a cheap pass over ids and modification times on both sides (the CRM's `listIds`, the local
 * contacts and the links), which finds what change reads and events missed, repairs it by the connection's rules
 * through the same paths a sync uses, and reports the drift per kind.
 *
 * A difference the next ordinary sync will settle is not drift: a CRM change after the inbound cursor, a local
 * change after the outbound one. What is left was passed over for good — an edit stamped before the cursor (a
 * search index that lagged, a lost event), a record gone from the CRM without a deletion to read — and is what this
 * pass exists for.
 */
export class ReconcilePass {
  private readonly inbound: InboundPass;
  private readonly outbound: OutboundBatch;
  private readonly deletions: Deletions;

  constructor(private readonly run: SyncRunScope) {
    this.inbound = new InboundPass(run);
    this.outbound = new OutboundBatch(run);
    this.deletions = new Deletions(run);
  }

  async reconcile(objects: string[]): Promise<ReconcileDrift> {
    const drift: ReconcileDrift = {};
    if (objects.length === 0) return drift;
    const local = await this.readLocalSide();
    for (const object of objects) {
      drift[object] = await this.reconcileObject(object, objects, local);
      this.run.journal.log(reconcileLine(object, this.run.crmName, drift[object]));
      await this.run.journal.flush();
    }
    return drift;
  }

  private async reconcileObject(
    object: string,
    objects: string[],
    local: LocalSide,
  ): Promise<ReconcileObjectDrift> {
    const { direction } = this.run.connection.settings;
    const reads = direction !== 'to_crm';
    const writes = direction !== 'from_crm';
    const drift = noDrift();
    const crm = await this.readCrmSide(object);
    drift.crmRecords = crm.size;
    drift.localContacts = local.contacts.filter((contact) => !contact.deletedAt).length;
    const links = local.links.filter((link) => link.crmObject === object);

    // Linked records the CRM no longer holds: ended as deletions in the CRM (propagateDeletes decides the rest).
    const missing = await this.confirmedMissing(
      object,
      links.filter((link) => !crm.has(link.crmId)),
    );
    drift.missingInCrm = missing.length;
    if (this.looksLikeWrongAccount(missing.length, links.length)) {
      this.run.journal.log({
        direction: 'none',
        object,
        recordKey: null,
        action: 'error',
        message:
          `Reconcile: ${missing.length} of ${links.length} linked records missing in ${this.run.crmName}; ` +
          'not repaired, as so many gone at once more likely means another account or lost permissions',
        details: { missingInCrm: missing.length, linked: links.length },
      });
    } else {
      const now = this.run.now().toISOString();
      await this.deletions.deletedInCrm(
        object,
        missing.map((link) => ({ id: link.crmId, object, deletedAt: now })),
      );
    }

    // CRM records to read again: edits the cursor passed over, and records the inbound read never brought in.
    const pulledUpTo = await this.pulledUpTo(object);
    const passed = (modifiedAt: string) => pulledUpTo !== null && Date.parse(modifiedAt) <= pulledUpTo;
    const linkedCrmIds = new Set(links.map((link) => link.crmId));
    const changedInCrm = links.filter((link) => {
      const modifiedAt = crm.get(link.crmId);
      return (
        modifiedAt !== undefined &&
        passed(modifiedAt) &&
        (link.crmModifiedAt === null || Date.parse(modifiedAt) > link.crmModifiedAt.getTime())
      );
    });
    const notInPenguinMails = [...crm].filter(
      ([id, modifiedAt]) => !linkedCrmIds.has(id) && passed(modifiedAt),
    );
    if (reads) {
      drift.changedInCrm = changedInCrm.length;
      drift.notInPenguinMails = notInPenguinMails.length;
      await this.pull(object, [
        ...changedInCrm.map((link) => link.crmId),
        ...notInPenguinMails.map(([id]) => id),
      ]);
    }

    if (writes) {
      const pushed = (at: Date) => local.pushedUpTo !== null && at.getTime() <= local.pushedUpTo;
      const changedLocally: LocalContact[] = [];
      for (const link of links) {
        const contact = local.byId.get(link.localId);
        if (!contact || !crm.has(link.crmId) || !pushed(contact.updatedAt)) continue;
        const since = link.localUpdatedAt?.getTime() ?? 0;
        if (contact.deletedAt !== null || contact.updatedAt.getTime() > since) changedLocally.push(contact);
      }
      drift.changedLocally = new Set(changedLocally.map((contact) => contact.id)).size;
      // Contacts linked to no synced object are created (or matched) in the first one, as the outbound pass does.
      const notInCrm = object === objects[0] ? await this.unlinkedContacts(local, objects, pushed) : [];
      drift.notInCrm = notInCrm.length;
      // Changed ones go to this object's records only; unlinked ones are matched or created as a sync would.
      const changed = [...new Map(changedLocally.map((contact) => [contact.id, contact])).values()];
      for (const batch of inBatches(changed, CHUNK)) await this.pushBatch([object], batch);
      for (const batch of inBatches(notInCrm, CHUNK)) await this.pushBatch(objects, batch);
    }
    return drift;
  }

  private async pushBatch(objects: string[], contacts: LocalContact[]): Promise<void> {
    await this.outbound.push(objects, contacts);
    await this.run.journal.flush();
  }

  /**
   * Of the links whose record the listing lacked, those the CRM does not hold when asked by id either: a listing
   * that lagged behind (a record restored, an index catching up) must never end a link.
   */
  private async confirmedMissing(object: string, candidates: LinkSnapshot[]): Promise<LinkSnapshot[]> {
    if (candidates.length === 0) return [];
    const fields = crmFieldsToRead(this.run.mapping(object));
    const found = new Set<string>();
    for (const batch of inBatches(candidates, CHUNK)) {
      const ids = batch.map((link) => link.crmId);
      for (const record of await this.run.crm.getRecords({ object, ids, fields })) found.add(record.id);
    }
    return candidates.filter((link) => !found.has(link.crmId));
  }

  /** More than half of many links gone at once: a switched account or lost permissions, not deletions. */
  private looksLikeWrongAccount(missing: number, linked: number): boolean {
    return missing > MASS_MISSING_MIN && missing * 2 > linked;
  }

  /** Every live record of the object in the CRM: id → modification time, from the id listing. */
  private async readCrmSide(object: string): Promise<Map<string, string>> {
    const crm = new Map<string, string>();
    const pages = this.run.crm.idPages({ object, pageSize: this.run.crm.capabilities.maxReadPage });
    for await (const page of pages) for (const stamp of page.ids) crm.set(stamp.id, stamp.modifiedAt);
    return crm;
  }

  /** Every local contact (deleted ones included), a page at a time, and their active links on this connection. */
  private async readLocalSide(): Promise<LocalSide> {
    const { connection, locals, links, cursors } = this.run;
    const contacts: LocalContact[] = [];
    let after: LocalPosition | null = null;
    for (;;) {
      const page = await locals.changedSince(connection.tenantId, after, CHUNK);
      contacts.push(...page);
      const last = page[page.length - 1];
      if (last === undefined || page.length < CHUNK) break;
      after = { updatedAt: last.updatedAt.toISOString(), id: last.id };
    }
    const found: LinkSnapshot[] = [];
    for (const ids of inBatches(
      contacts.map((contact) => contact.id),
      CHUNK,
    )) {
      found.push(...(await links.findByLocalIds(connection.id, ids)));
    }
    const cursor = await cursors.load(connection.id, LOCAL_CONTACT_OBJECT, 'to_crm');
    return {
      contacts,
      byId: new Map(contacts.map((contact) => [contact.id, contact])),
      links: found,
      pushedUpTo: cursor.value ? Date.parse(cursor.value.modifiedAt) : null,
    };
  }

  /** How far the inbound read of `object` has come (ms); null before its first read. */
  private async pulledUpTo(object: string): Promise<number | null> {
    const cursor = await this.run.cursors.load(this.run.connection.id, object, 'from_crm');
    return cursor.value ? Date.parse(cursor.value.modifiedAt) : null;
  }

  /** Reads the records again and applies them through the inbound path, a batch at a time. */
  private async pull(object: string, ids: string[]): Promise<void> {
    const fields = crmFieldsToRead(this.run.mapping(object));
    for (const batch of inBatches(ids, CHUNK)) {
      const records = await this.run.crm.getRecords({ object, ids: batch, fields });
      await this.inbound.applyRecords(object, records);
    }
  }

  /** Live contacts the outbound read passed, linked to none of the synced objects and not deleted in the CRM. */
  private async unlinkedContacts(
    local: LocalSide,
    objects: string[],
    pushed: (at: Date) => boolean,
  ): Promise<LocalContact[]> {
    const linked = new Set(
      local.links.filter((link) => objects.includes(link.crmObject)).map((link) => link.localId),
    );
    const candidates = local.contacts.filter(
      (contact) => !contact.deletedAt && !linked.has(contact.id) && pushed(contact.updatedAt),
    );
    const deletedInCrm = new Set<string>();
    for (const ids of inBatches(
      candidates.map((contact) => contact.id),
      CHUNK,
    )) {
      for (const id of await this.run.links.findDeletedInCrmLocalIds(this.run.connection.id, ids)) {
        deletedInCrm.add(id);
      }
    }
    return candidates.filter((contact) => !deletedInCrm.has(contact.id));
  }
}
