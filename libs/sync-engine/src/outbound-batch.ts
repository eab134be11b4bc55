import type { UpsertResult } from '@pm/integration-port';
import { Deletions, type LocalDeletion } from './deletions';
import { EmailMatcher, type OutboundItem } from './email-matching';
import { encodeForCrm } from './field-mapping';
import { crmModifiedAfter, linkSnapshot } from './link-snapshots';
import type { LinkSnapshot, LocalApplyResult, LocalContact, RetryItem } from './ports';
import { hasChanges, hasFields, revertFields } from './record-planner';
import { conflictLines, pushErrorLine, syncedLine, writeErrorMessage } from './sync-log-messages';
import { localSide, planForRun, type SyncRunScope } from './sync-run-scope';

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
          const plan = planForRun(this.run, { mapping, base: link.synced, local: localSide(contact), at });
          linked.push({ contact, object: link.crmObject, mapping, link, plan });
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
      const inputs = writes.map((item) => ({
        key: item.contact.id,
        crmId: item.link?.crmId ?? item.matched?.id,
        fields: encodeForCrm(item.mapping, item.plan.toCrm),
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
    const { journal, crmName } = this.run;
    const retryLater: RetryItem[] = [];
    const links: LinkSnapshot[] = [];
    for (const item of items) {
      const counts = journal.count('to_crm', item.object);
      const wrote = hasFields(item.plan.toCrm);
      const result = results.get(item);
      if (wrote && !result?.ok) {
        counts.errors++;
        item.failed = true;
        const { contact } = item;
        retryLater.push({
          direction: 'to_crm',
          object: item.object,
          recordId: contact.id,
          recordKey: contact.email,
          error: writeErrorMessage(result),
        });
        journal.log(pushErrorLine(item.object, contact.email, result, crmName));
        if (!item.link) continue;
        revertFields(item.plan, item.plan.toCrm, item.link.synced);
      }
      const fill = filled.get(`${item.object}:${item.contact.id}`);
      if (fill && !fill.ok) revertFields(item.plan, item.plan.toLocal, item.link?.synced);
      counts.conflicts += item.plan.conflicts.length;
      for (const line of conflictLines('to_crm', item.object, item.contact.email, item.plan.conflicts)) {
        journal.log(line);
      }
      if (wrote && result?.ok) {
        if (result.created) counts.created++;
        else counts.updated++;
        journal.log(
          syncedLine('to_crm', item.object, item.contact.email, crmName, {
            created: result.created,
            crmId: result.crmId,
            fields: item.plan.toCrm,
          }),
        );
      } else if (!item.failed && item.link) {
        counts.skipped++;
      }
      const crmId = result?.ok ? result.crmId : (item.link?.crmId ?? item.matched?.id);
      if (crmId === undefined || (item.link && !hasChanges(item.plan))) continue;
      const seen = item.link?.crmModifiedAt ?? (item.matched ? new Date(item.matched.modifiedAt) : null);
      links.push(
        linkSnapshot({
          link: item.link,
          localId: item.contact.id,
          crmObject: item.object,
          crmId,
          plan: item.plan,
          localUpdatedAt: fill?.ok ? fill.contact.updatedAt : item.contact.updatedAt,
          crmModifiedAt: crmModifiedAfter(result?.ok ? result : undefined, seen),
          at: this.run.now(),
        }),
      );
    }
    if (links.length > 0) await this.run.links.save(this.run.connection.id, links);
    await journal.retryLater(retryLater);
    for (const object of objects) {
      const ids = items
        .filter((item) => item.object === object && !item.failed)
        .map((item) => item.contact.id);
      await journal.succeeded('to_crm', object, ids);
    }
  }
}
