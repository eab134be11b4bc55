import type { CrmRecord } from '@pm/integration-port';
import { crmRecordEmail, type ObjectMapping } from './field-mapping';
import { crmSideOf, localSideOf } from './mapped-values';
import { FormulaError } from './mapping-formulas';
import type { LinkSnapshot, LocalContact } from './ports';
import type { RecordPlan, RecordSide } from './record-planner';
import { crmKeyValue, keysDiffer, localKeyValue, matchesOnEmail, matchingKeyOf } from './matching-key';
import { duplicateLine, keyDuplicateLine } from './sync-log-messages';
import { EPOCH, planForRun, type SyncRunScope } from './sync-run-scope';

/** A local contact and the CRM record it is written to: its link's, one matched by e-mail, or a new one. */
export interface OutboundItem {
  contact: LocalContact;
  object: string;
  mapping: ObjectMapping;
  link?: LinkSnapshot;
  /** The CRM record matched (by the matching key, else by e-mail) for a first link. */
  matched?: CrmRecord;
  plan: RecordPlan;
  failed?: boolean;
}

/**
 * Unlinked local contacts: each is looked up by e-mail in the CRM (in look-ups at the gateway's batch size, per
 * object), linked to the one record found, reported as a duplicate when two or more hold the e-mail, and otherwise
 * created in the first selected object. That look-up is the only one a create gets: the write tells the connector
 * so (`createsMatched`). A contact whose e-mail a complete first read of the object in this run did not return
 * (`completeReads`) is not looked up there: the read was the look-up. Where the mapping matches on a key of its own
 * (`matchKey`), contacts holding a key value are looked up by it first (`findByField`); those it finds nothing for,
 * and those without one, then go through the e-mail look-up (see `matchingKeyOf`).
 */
export class EmailMatcher {
  constructor(private readonly run: SyncRunScope) {}

  async matchUnlinked(objects: string[], contacts: LocalContact[], at: string): Promise<OutboundItem[]> {
    const items: OutboundItem[] = [];
    let remaining = contacts;
    for (const object of objects) {
      if (remaining.length === 0) break;
      const mapping = this.run.mapping(object);
      if (!matchesOnEmail(mapping)) remaining = await this.matchOnKey(object, mapping, remaining, at, items);
      // After a complete first read of the object in this run, only e-mails that read returned can be in the CRM.
      const readAll = this.run.completeReads?.get(object);
      const toLookUp = readAll ? remaining.filter((contact) => readAll.has(contact.email)) : remaining;
      const found =
        toLookUp.length === 0
          ? []
          : await this.run.crm.findByEmail(
              object,
              toLookUp.map((contact) => contact.email),
            );
      remaining = await this.link(object, mapping, remaining, found, 'email', at, items);
    }
    const createIn = objects[0];
    const mapping = this.run.mapping(createIn);
    for (const contact of remaining) {
      const plan = await this.plan(createIn, contact, mapping, at, async () => ({
        values: {},
        modifiedAt: EPOCH,
      }));
      if (plan) items.push({ contact, object: createIn, mapping, plan });
    }
    return items;
  }

  /**
   * Contacts holding a value of the mapping's own matching key, looked up by it (`findByField`) and linked; the
   * rest (no key value, or none found) go on to the e-mail look-up.
   */
  private async matchOnKey(
    object: string,
    mapping: ObjectMapping,
    contacts: LocalContact[],
    at: string,
    items: OutboundItem[],
  ): Promise<LocalContact[]> {
    const values = [...new Set(contacts.flatMap((contact) => localKeyValue(mapping, contact) ?? []))];
    const found =
      values.length === 0 ? [] : await this.run.crm.findByField(object, matchingKeyOf(mapping).crm, values);
    return this.link(object, mapping, contacts, found, 'key', at, items);
  }

  /**
   * Links each contact to the one found record holding its value (its e-mail, or its matching key's value) and
   * plans it; returns the contacts no record holds.
   */
  private async link(
    object: string,
    mapping: ObjectMapping,
    contacts: LocalContact[],
    found: CrmRecord[],
    on: 'email' | 'key',
    at: string,
    items: OutboundItem[],
  ): Promise<LocalContact[]> {
    const recordValue = (record: CrmRecord) =>
      on === 'email' ? crmRecordEmail(mapping, record.fields) : crmKeyValue(mapping, record.fields);
    const contactValue = (contact: LocalContact) =>
      on === 'email' ? contact.email : localKeyValue(mapping, contact);
    const byValue = new Map<string, CrmRecord[]>();
    for (const record of found) {
      const value = recordValue(record);
      if (value !== null) byValue.set(value, [...(byValue.get(value) ?? []), record]);
    }
    const associated = await this.run.crm.readAssociated(mapping, found);
    const linkedTo = await this.run.links.findByCrmIds(
      this.run.connection.id,
      object,
      found.map((record) => record.id),
    );
    const owners = new Map(linkedTo.map((link) => [link.crmId, link]));
    const next: LocalContact[] = [];
    for (const contact of contacts) {
      const value = contactValue(contact);
      const matches = value === null ? [] : (byValue.get(value) ?? []);
      if (matches.length === 0) {
        next.push(contact);
        continue;
      }
      if (this.refused(object, contact, mapping, matches, owners, on)) continue;
      const [record] = matches;
      const plan = await this.plan(object, contact, mapping, at, () =>
        crmSideOf(mapping, record, associated, this.run.formulaLimits),
      );
      if (plan) items.push({ contact, object, mapping, matched: record, plan });
    }
    return next;
  }

  /** A first-link plan; undefined (the record failed, logged and retried) when a formula could not be evaluated. */
  private async plan(
    object: string,
    contact: LocalContact,
    mapping: ObjectMapping,
    at: string,
    crmSide: () => Promise<RecordSide>,
  ): Promise<RecordPlan | undefined> {
    try {
      const local = await localSideOf(mapping, contact, this.run.formulaLimits);
      return planForRun(this.run, { mapping, local, crm: await crmSide(), at });
    } catch (error) {
      if (!(error instanceof FormulaError)) throw error;
      const failed = { object, recordId: contact.id, recordKey: contact.email, error: error.message };
      await this.run.journal.mappingFailed({ direction: 'to_crm', ...failed }, this.run.crmName);
      return undefined;
    }
  }

  /**
   * Two records hold the e-mail (or key value), the one that does is linked to another contact, or it was found by
   * e-mail yet holds another key value: skipped and logged.
   */
  private refused(
    object: string,
    contact: LocalContact,
    mapping: ObjectMapping,
    matches: CrmRecord[],
    owners: ReadonlyMap<string, LinkSnapshot>,
    on: 'email' | 'key',
  ): boolean {
    const { journal, crmName } = this.run;
    if (matches.length > 1) {
      journal.count('to_crm', object).skipped++;
      const ids = matches.map((record) => record.id);
      const value = localKeyValue(mapping, contact) as string;
      journal.log(
        on === 'email'
          ? duplicateLine('to_crm', object, contact.email, ids, crmName)
          : keyDuplicateLine(
              'to_crm',
              object,
              contact.email,
              { field: matchingKeyOf(mapping).crm, value },
              ids,
              crmName,
            ),
      );
      return true;
    }
    const [record] = matches;
    if (on === 'email' && keysDiffer(mapping, contact, record.fields)) {
      journal.count('to_crm', object).skipped++;
      const field = matchingKeyOf(mapping).crm;
      journal.log({
        direction: 'to_crm',
        object,
        recordKey: contact.email,
        action: 'duplicate_found',
        message: `Not linked: ${contact.email} matches ${object} ${record.id} in ${crmName} by e-mail, but its ${field} "${crmKeyValue(mapping, record.fields)}" differs from the contact's "${localKeyValue(mapping, contact)}"`,
        details: { crmId: record.id, matchField: field },
      });
      return true;
    }
    const owner = owners.get(record.id);
    if (!owner || owner.localId === contact.id) return false;
    journal.count('to_crm', object).skipped++;
    journal.log({
      direction: 'to_crm',
      object,
      recordKey: contact.email,
      action: 'duplicate_found',
      message: `Duplicate: ${contact.email} matches ${object} ${record.id} in ${crmName}, which is linked to another contact; not merged`,
      details: { crmId: record.id, linkedLocalId: owner.localId },
    });
    return true;
  }
}
