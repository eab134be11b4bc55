import type { UpsertResult } from '@pm/integration-port';
import { Deletions, type LocalDeletion } from './deletions';
import { EmailMatcher, type OutboundItem } from './email-matching';
import { encodeForCrm } from './field-mapping';
import { crmModifiedAfter, linkSnapshot } from './link-snapshots';
import type { LinkSnapshot, LocalApplyResult, LocalContact, RetryItem } from './ports';
import { hasChanges, hasFields, revertFields } from './record-planner';
import { conflictLines, pushErrorLine, syncedLine, writeErrorMessage } from './sync-log-messages';
import { localSideOf } from './mapped-values';
import { FormulaError } from './mapping-formulas';
import { withFieldsWrittenTogether } from './written-together';
import { planForRun, type SyncRunScope } from './sync-run-scope';

/**
 * PenguinMails → CRM for one batch of local contacts: linked ones are written to their records, deleted ones end
 * their links (see `Deletions`), unlinked ones are matched by e-mail or created. Values a matched CRM record holds
 * that the contact lacks are filled in locally (bi-directional only).
 */
export class OutboundBatch {
  private readonly matcher: EmailMatcher;
  private readonly deletions: Deletions;

  constructor(private readonly run: SyncRunScope) {
    this.matcher = new EmailMatcher(run);
    this.deletions = new Deletions(run);
  }

  async push(objects: string[], contacts: LocalContact[]): Promise<void> {
    const at = this.run.now().toISOString();
    const { linked, unlinked, deletions } = await this.sort(objects, contacts, at);
    const creatable = await this.notDeletedInCrm(objects[0], unlinked);
    await this.deletions.deletedLocally(deletions);
    const items = [...linked, ...(await this.matcher.matchUnlinked(objects, creatable, at))];
    const results = await this.writeToCrm(objects, items);
    const filled = await this.fillLocally(items);
    await this.record(objects, items, results, filled);
  }

  /** Linked contacts planned against each of their links; unlinked and deleted ones set apart. */
  private async sort(objects: string[], contacts: LocalContact[], at: string) {
    const allLinks = await this.run.links.findByLocalIds(
      this.run.connection.id,
      contacts.map((contact) => contact.id),
    );
    const linksByLocal = new Map<string, LinkSnapshot[]>();
    for (const link of allLinks) {
      if (!objects.includes(link.crmObject)) continue;
      linksByLocal.set(link.localId, [...(linksByLocal.get(link.localId) ?? []), link]);
    }
    const linked: OutboundItem[] = [];
    const unlinked: LocalContact[] = [];
    const deletions: LocalDeletion[] = [];
    for (const contact of contacts) {
      const links = linksByLocal.get(contact.id) ?? [];
      if (contact.deletedAt) deletions.push(...links.map((link) => ({ contact, link })));
      else if (links.length === 0) unlinked.push(contact);
      else {
        for (const link of links) {
          const mapping = this.run.mapping(link.crmObject);
          try {
            const local = await localSideOf(mapping, contact, this.run.formulaLimits);
            const plan = planForRun(this.run, { mapping, base: link.synced, local, at });
            linked.push({ contact, object: link.crmObject, mapping, link, plan });
          } catch (error) {
            if (!(error instanceof FormulaError)) throw error;
            const failed = { object: link.crmObject, recordId: contact.id, recordKey: contact.email };
            await this.run.journal.mappingFailed(
              { direction: 'to_crm', ...failed, error: error.message },
              this.run.crmName,
            );
          }
        }
      }
    }
    return { linked, unlinked, deletions };
  }

  /** A contact whose CRM record was deleted stays unlinked: creating it again would undo that deletion. */
  private async notDeletedInCrm(createIn: string, unlinked: LocalContact[]): Promise<LocalContact[]> {
    if (unlinked.length === 0) return [];
    const deletedInCrm = new Set(
      await this.run.links.findDeletedInCrmLocalIds(
        this.run.connection.id,
        unlinked.map((contact) => contact.id),
      ),
    );
    const counts = this.run.journal.count('to_crm', createIn);
    counts.skipped += unlinked.filter((contact) => deletedInCrm.has(contact.id)).length;
    return unlinked.filter((contact) => !deletedInCrm.has(contact.id));
  }

  /**
   * Writes, per object, in batches at the connector's limit. Every create here was just looked up by e-mail by
   * the matcher, so the connector skips its own look-up on the first attempt.
   */
  private async writeToCrm(objects: string[], items: OutboundItem[]) {
    const results = new Map<OutboundItem, UpsertResult | undefined>();
    for (const object of objects) {
      const writes = items.filter((item) => item.object === object && hasFields(item.plan.toCrm));
      const capability = this.run.crm.capabilities.objects.find((candidate) => candidate.name === object);
      const inputs = writes.map((item) => ({
        key: item.contact.id,
        crmId: item.link?.crmId ?? item.matched?.id,
        fields: withFieldsWrittenTogether(
          capability,
          item.mapping,
          encodeForCrm(item.mapping, item.plan.toCrm),
          { crmFields: item.matched?.fields, base: item.link?.synced },
        ),
      }));
      const byKey = await this.run.crm.upsert(object, inputs, { createsMatched: true });
      for (const item of writes) results.set(item, byKey.get(item.contact.id));
    }
    return results;
  }

  /** Local values filled from a CRM record found at first link (bi-directional only). By `object:contactId`. */
  private async fillLocally(items: OutboundItem[]): Promise<Map<string, LocalApplyResult>> {
    const fills = items.filter((item) => hasFields(item.plan.toLocal));
    if (fills.length === 0) return new Map();
    const results = await this.run.locals.apply(
      this.run.connection.tenantId,
      fills.map((item) => ({
        key: `${item.object}:${item.contact.id}`,
        contactId: item.contact.id,
        email: item.contact.email,
        values: item.plan.toLocal,
      })),
      { connectionId: this.run.connection.id, provider: this.run.connection.provider },
    );
    return new Map(results.map((result) => [result.key, result]));
  }

  /** Counts, log lines, links and the retry list, from what each write answered. */
  private async record(
    objects: string[],
    items: OutboundItem[],
    results: Map<OutboundItem, UpsertResult | undefined>,
    filled: Map<string, LocalApplyResult>,
  ): Promise<void> {
    const retryLater: RetryItem[] = [];
    const links: LinkSnapshot[] = [];
    for (const item of items) {
      const result = results.get(item);
      // A create that failed has nothing more to record (no link, no fill); it is retried next run.
      if (this.writeFailed(item, result, retryLater) && !item.link) continue;
      const fill = filled.get(`${item.object}:${item.contact.id}`);
      const fillFailed = fill !== undefined && !fill.ok;
      if (fillFailed) revertFields(item.plan, item.plan.toLocal, item.link?.synced);
      this.tally(item, result);
      const localUpdatedAt = fill?.ok ? fill.contact.updatedAt : item.contact.updatedAt;
      const link = this.linkAfter(item, result, localUpdatedAt, fillFailed);
      if (link) links.push(link);
    }
    if (links.length > 0) await this.run.links.save(this.run.connection.id, links);
    await this.run.journal.retryLater(retryLater);
    for (const object of objects) {
      const ids = items
        .filter((item) => item.object === object && !item.failed)
        .map((item) => item.contact.id);
      await this.run.journal.succeeded('to_crm', object, ids);
    }
  }

  /**
   * A write the CRM refused (or did not answer for): counted, logged with the CRM's message and put on the retry
   * list; the base keeps the old values of what was not written, so they are written next run.
   */
  private writeFailed(
    item: OutboundItem,
    result: UpsertResult | undefined,
    retryLater: RetryItem[],
  ): boolean {
    if (!hasFields(item.plan.toCrm) || result?.ok) return false;
    const { contact, object } = item;
    this.run.journal.count('to_crm', object).errors++;
    item.failed = true;
    retryLater.push({
      direction: 'to_crm',
      object,
      recordId: contact.id,
      recordKey: contact.email,
      error: writeErrorMessage(result),
    });
    this.run.journal.log(pushErrorLine(object, contact.email, result, this.run.crmName));
    if (item.link) revertFields(item.plan, item.plan.toCrm, item.link.synced);
    return true;
  }

  /** Conflicts settled, and what the write did: created, updated, or nothing to do for a linked record. */
  private tally(item: OutboundItem, result: UpsertResult | undefined): void {
    const { journal, crmName } = this.run;
    const { contact, object, plan } = item;
    const counts = journal.count('to_crm', object);
    counts.conflicts += plan.conflicts.length;
    for (const line of conflictLines('to_crm', object, contact.email, plan.conflicts)) journal.log(line);
    if (hasFields(plan.toCrm) && result?.ok) {
      if (result.created) counts.created++;
      else counts.updated++;
      const change = { created: result.created, crmId: result.crmId, fields: plan.toCrm };
      journal.log(syncedLine('to_crm', object, contact.email, crmName, change));
    } else if (!item.failed && item.link) {
      counts.skipped++;
    }
  }

  /**
   * The link to save for an item: a first link, or one whose values moved; none for an unchanged one. After a failed
   * local fill it records no CRM version: the record's values are not all applied, so a read must plan it again.
   */
  private linkAfter(
    item: OutboundItem,
    result: UpsertResult | undefined,
    localUpdatedAt: Date,
    fillFailed: boolean,
  ): LinkSnapshot | undefined {
    const crmId = result?.ok ? result.crmId : (item.link?.crmId ?? item.matched?.id);
    if (crmId === undefined || (item.link && !hasChanges(item.plan))) return undefined;
    const seen = item.link?.crmModifiedAt ?? (item.matched ? new Date(item.matched.modifiedAt) : null);
    return linkSnapshot({
      link: item.link,
      localId: item.contact.id,
      crmObject: item.object,
      crmId,
      plan: item.plan,
      localUpdatedAt,
      crmModifiedAt: fillFailed ? null : crmModifiedAfter(result?.ok ? result : undefined, seen),
      at: this.run.now(),
    });
  }
}
