import { uniqueNormalisedEmails } from '@pm/connector-kit';
import type { CrmRecord } from '@pm/integration-port';
import {
  associatedValuesOf,
  crmRecordEmail,
  decodeCrmRecord,
  type AssociatedRecords,
  type LocalValues,
  type ObjectMapping,
} from './field-mapping';
import { crmSideOf, localSideOf } from './mapped-values';
import { FormulaError } from './mapping-formulas';
import type { LinkSnapshot, LocalContact } from './ports';
import type { RecordPlan } from './record-planner';
import { duplicateLine } from './sync-log-messages';
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

/**
 * Finds the local contact each CRM record of a page belongs to: by its link, else by e-mail. A record without an
 * e-mail, one whose local contact was deleted in PenguinMails, and a second record claiming a contact already
 * linked to another (a duplicate in the CRM) are skipped and logged; the rest are planned.
 */
/** What a page's records are matched against, read in a few queries for the whole page. */
interface PageCandidates {
  linkByCrmId: Map<string, LinkSnapshot>;
  localById: Map<string, LocalContact>;
  localByEmail: Map<string, LocalContact>;
  /** Which CRM record of this object each candidate local contact is already linked to. */
  claimed: Map<string, string>;
}

export class InboundMatcher {
  constructor(private readonly run: SyncRunScope) {}

  async match(object: string, mapping: ObjectMapping, records: CrmRecord[]): Promise<InboundItem[]> {
    const associated = await this.run.crm.readAssociated(mapping, records);
    const candidates = await this.candidates(object, mapping, records);
    /** E-mails of records that will create a local contact, so a second record with one is a duplicate. */
    const newByEmail = new Map<string, string>();
    const at = this.run.now().toISOString();
    const items: InboundItem[] = [];
    for (const record of records) {
      const email = crmRecordEmail(mapping, record.fields);
      const link = candidates.linkByCrmId.get(record.id);
      const local = link
        ? this.linkedContact(object, link, candidates)
        : this.contactByEmail(object, record, email, candidates, newByEmail);
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
    const [linkedLocals, localsByEmail] = await Promise.all([
      locals.findByIds(
        connection.tenantId,
        linked.map((link) => link.localId),
      ),
      locals.findByEmails(connection.tenantId, unlinkedEmails),
    ]);
    const claimed = new Map<string, string>();
    const candidateLinks = await links.findByLocalIds(
      connection.id,
      localsByEmail.map((contact) => contact.id),
    );
    for (const link of candidateLinks) if (link.crmObject === object) claimed.set(link.localId, link.crmId);
    return {
      linkByCrmId,
      localById: new Map(linkedLocals.map((contact) => [contact.id, contact])),
      localByEmail: new Map(localsByEmail.map((contact) => [contact.email, contact])),
      claimed,
    };
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
   * The contact an unlinked record matches by e-mail (undefined: none yet, a create); null (skipped and logged)
   * when the record has no e-mail, another record already claims the contact, or the contact was deleted.
   */
  private contactByEmail(
    object: string,
    record: CrmRecord,
    email: string | null,
    candidates: PageCandidates,
    newByEmail: Map<string, string>,
  ): LocalContact | undefined | null {
    const { journal, crmName } = this.run;
    const counts = journal.count('from_crm', object);
    if (email === null) {
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
    const local = candidates.localByEmail.get(email);
    const otherRecord = local ? candidates.claimed.get(local.id) : newByEmail.get(email);
    if (otherRecord !== undefined && otherRecord !== record.id) {
      counts.skipped++;
      journal.log(duplicateLine('from_crm', object, email, [otherRecord, record.id], crmName));
      return null;
    }
    if (local?.deletedAt) {
      counts.skipped++;
      journal.log({
        direction: 'from_crm',
        object,
        recordKey: email,
        action: 'skipped',
        message: `Contact skipped: ${email} was deleted in PenguinMails`,
      });
      return null;
    }
    if (local) candidates.claimed.set(local.id, record.id);
    else newByEmail.set(email, record.id);
    return local;
  }
}
