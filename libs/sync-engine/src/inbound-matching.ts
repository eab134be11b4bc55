import type { CrmRecord } from '@pm/integration-port';
import {
  associatedValuesOf,
  crmRecordEmail,
  decodeCrmRecord,
  type AssociatedRecords,
  type LocalValues,
  type ObjectMapping,
} from './field-mapping';
import type { LinkSnapshot, LocalContact } from './ports';
import type { RecordPlan } from './record-planner';
import { duplicateLine } from './sync-log-messages';
import { EPOCH, localSide, planForRun, type SyncRunScope } from './sync-run-scope';

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
export class InboundMatcher {
  constructor(private readonly run: SyncRunScope) {}

  async match(object: string, mapping: ObjectMapping, records: CrmRecord[]): Promise<InboundItem[]> {
    const { connection, journal } = this.run;
    const counts = journal.count('from_crm', object);
    const associated = await this.run.crm.readAssociated(mapping, records);
    const links = await this.run.links.findByCrmIds(
      connection.id,
      object,
      records.map((record) => record.id),
    );
    const linkByCrmId = new Map(links.map((link) => [link.crmId, link]));
    const unlinkedEmails = [
      ...new Set(
        records
          .filter((record) => !linkByCrmId.has(record.id))
          .map((record) => crmRecordEmail(mapping, record.fields))
          .filter((email): email is string => email !== null),
      ),
    ];
    const [linkedLocals, localsByEmailList] = await Promise.all([
      this.run.locals.findByIds(
        connection.tenantId,
        links.map((link) => link.localId),
      ),
      this.run.locals.findByEmails(connection.tenantId, unlinkedEmails),
    ]);
    const localById = new Map(linkedLocals.map((contact) => [contact.id, contact]));
    const localByEmail = new Map(localsByEmailList.map((contact) => [contact.email, contact]));
    // Which CRM record of this object each candidate local contact is already linked to.
    const claimed = new Map<string, string>();
    const candidateLinks = await this.run.links.findByLocalIds(
      connection.id,
      localsByEmailList.map((contact) => contact.id),
    );
    for (const link of candidateLinks) if (link.crmObject === object) claimed.set(link.localId, link.crmId);
    const newByEmail = new Map<string, string>();

    const at = this.run.now().toISOString();
    const items: InboundItem[] = [];
    for (const record of records) {
      const email = crmRecordEmail(mapping, record.fields);
      const link = linkByCrmId.get(record.id);
      let local: LocalContact | undefined;
      if (link) {
        local = localById.get(link.localId);
        if (!local || local.deletedAt) {
          // Deleted in PenguinMails: the outbound pass unlinks it; nothing flows back into a deleted contact.
          counts.skipped++;
          continue;
        }
      } else {
        if (email === null) {
          counts.skipped++;
          journal.log({
            direction: 'from_crm',
            object,
            recordKey: record.id,
            action: 'skipped',
            message: `Contact skipped: ${object} ${record.id} in ${this.run.crmName} has no e-mail`,
          });
          continue;
        }
        local = localByEmail.get(email);
        const otherRecord = local ? claimed.get(local.id) : newByEmail.get(email);
        if (otherRecord !== undefined && otherRecord !== record.id) {
          counts.skipped++;
          journal.log(duplicateLine('from_crm', object, email, [otherRecord, record.id], this.run.crmName));
          continue;
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
          continue;
        }
        if (local) claimed.set(local.id, record.id);
        else newByEmail.set(email, record.id);
      }
      const plan = planForRun(this.run, {
        mapping,
        base: link?.synced,
        local: local ? localSide(local) : { values: {}, modifiedAt: EPOCH },
        crm: { values: decodeRecord(mapping, record, associated), modifiedAt: record.modifiedAt },
        at,
      });
      items.push({ record, email: local?.email ?? (email as string), link, local, plan });
    }
    return items;
  }
}
