import { uniqueNormalisedEmails } from '@pm/connector-kit';
import { customFieldName, type CrmRecord } from '@pm/integration-port';
import {
  associatedValuesOf,
  crmRecordEmail,
  decodeCrmRecord,
  type AssociatedRecords,
  type LocalValues,
  type ObjectMapping,
} from './field-mapping';
import { crmSideOf, localSideOf } from './mapped-values';
import { crmKeyValue, localKeyValue, matchesOnEmail, matchingKeyOf } from './matching-key';
import { FormulaError } from './mapping-formulas';
import type { LinkSnapshot, LocalContact } from './ports';
import type { RecordPlan } from './record-planner';
import { duplicateLine, keyDuplicateLine } from './sync-log-messages';
import { EPOCH, planForRun, type SyncRunScope } from './sync-run-scope';

/** A CRM record matched to a local contact (or to none yet: a create), with what to do about it. */
export interface InboundItem {
  record: CrmRecord;
  email: string;
  link?: LinkSnapshot;
  local?: LocalContact;
  plan: RecordPlan;
  failed?: boolean;
}

/** A CRM record's mapped values in local form, associated records' values included. */
export function decodeRecord(
  mapping: ObjectMapping,
  record: CrmRecord,
  associated: AssociatedRecords,
): LocalValues {
  return decodeCrmRecord(mapping, record.fields, associatedValuesOf(mapping, record, associated));
}

/** What a page's records are matched against, read in a few queries for the whole page. */
interface PageCandidates {
  linkByCrmId: Map<string, LinkSnapshot>;
  localById: Map<string, LocalContact>;
  localByEmail: Map<string, LocalContact>;
  /** By matching key value, where the mapping has a key of its own (empty otherwise). */
  localByKey: Map<string, LocalContact>;
  /** Which CRM record of this object each candidate local contact is already linked to. */
  claimed: Map<string, string>;
}

/** Records of a page that will create a local contact, by e-mail and by key value: a second one is a duplicate. */
interface NewRecords {
  byEmail: Map<string, string>;
  byKey: Map<string, string>;
}

/**
 * Finds the local contact each CRM record of a page belongs to: by its link, else by the mapping's matching key
 * when it has one of its own, else by e-mail (see `matchingKeyOf`). A record without an e-mail that nothing else
 * matches, one whose local contact was deleted in PenguinMails, a second record claiming a contact already linked
 * to another (a duplicate in the CRM) and one matching by e-mail a contact holding another key value are skipped and
 * logged; the rest are planned.
 */
export class InboundMatcher {
  constructor(private readonly run: SyncRunScope) {}

  async match(object: string, mapping: ObjectMapping, records: CrmRecord[]): Promise<InboundItem[]> {
    const associated = await this.run.crm.readAssociated(mapping, records);
    const candidates = await this.candidates(object, mapping, records);
    const created: NewRecords = { byEmail: new Map(), byKey: new Map() };
    const at = this.run.now().toISOString();
    const items: InboundItem[] = [];
    for (const record of records) {
      const email = crmRecordEmail(mapping, record.fields);
      const link = candidates.linkByCrmId.get(record.id);
      const local = link
        ? this.linkedContact(object, link, candidates)
        : this.unlinkedContact(object, mapping, record, email, candidates, created);
      if (local === null) continue;
      let plan: RecordPlan;
      try {
        const limits = this.run.formulaLimits;
        plan = planForRun(this.run, {
          mapping,
          base: link?.synced,
          local: local ? await localSideOf(mapping, local, limits) : { values: {}, modifiedAt: EPOCH },
          crm: await crmSideOf(mapping, record, associated, limits),
          at,
        });
      } catch (error) {
        if (!(error instanceof FormulaError)) throw error;
        const recordKey = local?.email ?? email ?? record.id;
        const failed = { object, recordId: record.id, recordKey, error: error.message, payload: record };
        await this.run.journal.mappingFailed({ direction: 'from_crm', ...failed }, this.run.crmName);
        continue;
      }
      items.push({ record, email: local?.email ?? (email as string), link, local, plan });
    }
    return items;
  }

  private async candidates(
    object: string,
    mapping: ObjectMapping,
    records: CrmRecord[],
  ): Promise<PageCandidates> {
    const { connection, links, locals } = this.run;
    const linked = await links.findByCrmIds(
      connection.id,
      object,
      records.map((record) => record.id),
    );
    const linkByCrmId = new Map(linked.map((link) => [link.crmId, link]));
    const unlinkedEmails = uniqueNormalisedEmails(
      records
        .filter((record) => !linkByCrmId.has(record.id))
        .map((record) => crmRecordEmail(mapping, record.fields)),
    );
    const [linkedLocals, localsByEmail, localsByKey] = await Promise.all([
      locals.findByIds(
        connection.tenantId,
        linked.map((link) => link.localId),
      ),
      locals.findByEmails(connection.tenantId, unlinkedEmails),
      this.localsByKey(
        mapping,
        records.filter((record) => !linkByCrmId.has(record.id)),
      ),
    ]);
    const claimed = new Map<string, string>();
    const candidateLinks = await links.findByLocalIds(connection.id, [
      ...new Set([...localsByEmail, ...localsByKey].map((contact) => contact.id)),
    ]);
    for (const link of candidateLinks) if (link.crmObject === object) claimed.set(link.localId, link.crmId);
    return {
      linkByCrmId,
      localById: new Map(linkedLocals.map((contact) => [contact.id, contact])),
      localByEmail: new Map(localsByEmail.map((contact) => [contact.email, contact])),
      localByKey: new Map(
        localsByKey.flatMap((contact) => {
          const value = localKeyValue(mapping, contact);
          return value === null ? [] : [[value, contact] as const];
        }),
      ),
      claimed,
    };
  }

  /** The local contacts holding the key values of unlinked records, where the mapping has a key of its own. */
  private async localsByKey(mapping: ObjectMapping, unlinked: CrmRecord[]): Promise<LocalContact[]> {
    if (matchesOnEmail(mapping)) return [];
    const values = [...new Set(unlinked.flatMap((record) => crmKeyValue(mapping, record.fields) ?? []))];
    if (values.length === 0) return [];
    const { local } = matchingKeyOf(mapping);
    const { locals, connection } = this.run;
    const name = customFieldName(local);
    return name === undefined
      ? locals.findByEmails(connection.tenantId, values)
      : locals.findByCustomField(connection.tenantId, name, values);
  }

  /** The contact a link points to; null (skipped) when it was deleted in PenguinMails. */
  private linkedContact(object: string, link: LinkSnapshot, candidates: PageCandidates): LocalContact | null {
    const local = candidates.localById.get(link.localId);
    if (local && !local.deletedAt) return local;
    // Deleted in PenguinMails: the outbound pass unlinks it; nothing flows back into a deleted contact.
    this.run.journal.count('from_crm', object).skipped++;
    return null;
  }

  /**
   * The contact an unlinked record matches by its key value, else by e-mail (undefined: none yet, a create); null
   * (skipped and logged) when the record has no e-mail and matches no contact, another record already claims the
   * contact (or holds the key value of a create), the e-mail's contact holds another key value, or the contact was
   * deleted.
   */
  private unlinkedContact(
    object: string,
    mapping: ObjectMapping,
    record: CrmRecord,
    email: string | null,
    candidates: PageCandidates,
    created: NewRecords,
  ): LocalContact | undefined | null {
    const { journal, crmName } = this.run;
    const counts = journal.count('from_crm', object);
    const keyValue = matchesOnEmail(mapping) ? null : crmKeyValue(mapping, record.fields);
    const byKey = keyValue === null ? undefined : candidates.localByKey.get(keyValue);
    const local = byKey ?? (email === null ? undefined : candidates.localByEmail.get(email));
    const recordKey = local?.email ?? email ?? record.id;
    if (local === undefined && email === null) {
      counts.skipped++;
      journal.log({
        direction: 'from_crm',
        object,
        recordKey: record.id,
        action: 'skipped',
        message: `Contact skipped: ${object} ${record.id} in ${crmName} has no e-mail`,
      });
      return null;
    }
    const field = matchingKeyOf(mapping).crm;
    const otherRecord = local
      ? candidates.claimed.get(local.id)
      : ((keyValue === null ? undefined : created.byKey.get(keyValue)) ??
        created.byEmail.get(email as string));
    if (otherRecord !== undefined && otherRecord !== record.id) {
      counts.skipped++;
      const ids = [otherRecord, record.id];
      journal.log(
        keyValue !== null && (byKey !== undefined || created.byKey.get(keyValue) === otherRecord)
          ? keyDuplicateLine('from_crm', object, recordKey, { field, value: keyValue }, ids, crmName)
          : duplicateLine('from_crm', object, recordKey, ids, crmName),
      );
      return null;
    }
    if (local && !byKey && keyValue !== null) {
      const localKey = localKeyValue(mapping, local);
      if (localKey !== null && localKey !== keyValue) {
        counts.skipped++;
        journal.log({
          direction: 'from_crm',
          object,
          recordKey,
          action: 'duplicate_found',
          message: `Not linked: ${object} ${record.id} in ${crmName} matches ${local.email} by e-mail, but its ${field} "${keyValue}" differs from the contact's "${localKey}"`,
          details: { crmId: record.id, localId: local.id, matchField: field },
        });
        return null;
      }
    }
    if (local?.deletedAt) {
      counts.skipped++;
      journal.log({
        direction: 'from_crm',
        object,
        recordKey,
        action: 'skipped',
        message: `Contact skipped: ${recordKey} was deleted in PenguinMails`,
      });
      return null;
    }
    if (local) candidates.claimed.set(local.id, record.id);
    else {
      created.byEmail.set(email as string, record.id);
      if (keyValue !== null) created.byKey.set(keyValue, record.id);
    }
    return local;
  }
}
