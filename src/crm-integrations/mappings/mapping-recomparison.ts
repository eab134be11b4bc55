import { Injectable } from '@nestjs/common';
import {
  isLocalCompanyField,
  isLocalContactField,
  mappingKey,
  type FieldMappingEntry,
  type ObjectMapping,
} from '@pm/integration-port';
import {
  canonicalJson,
  entrySignature,
  matchingKeyOf,
  LOCAL_COMPANY_OBJECT,
  LOCAL_CONTACT_OBJECT,
  RECOMPARE_ALL,
  writesLocally,
  writesToCrm,
} from '@pm/sync-engine';
import { FieldMappingRepository, SyncCursorRepository } from '../repositories';
import type { MappingImpactDto } from './field-mapping.dto';

/** What a saved mapping changed, by mapping key, and which way the changed fields now flow. */
export interface MappingChanges {
  /** Keys of entries added, removed, or changed in field, direction, codec, value map or formula. */
  fields: string[];
  keyChanged: boolean;
  /** Something now flows to the CRM differently: local values must be compared again. */
  push: boolean;
  /** Something now flows from the CRM differently: CRM values must be compared again. */
  pull: boolean;
  /** Local fields that now flow to the CRM and changed: their local values decide what will be written. */
  pushedLocalFields: string[];
}

const signature = entrySignature;

/** What the mapped object's records are locally: contacts, or companies (a company object's mapping). */
export type MappingSubject = 'contact' | 'company';

export function mappingChanges(
  before: ObjectMapping,
  after: ObjectMapping,
  subject: MappingSubject = 'contact',
): MappingChanges {
  const isLocal = subject === 'company' ? isLocalCompanyField : isLocalContactField;
  const beforeByKey = new Map(before.fields.map((entry) => [mappingKey(entry), entry]));
  const afterByKey = new Map(after.fields.map((entry) => [mappingKey(entry), entry]));
  // Either side of the matching key (a mapping without one matches on the e-mail).
  const keyBefore = before.emailField === '' ? null : matchingKeyOf(before);
  const keyAfter = after.emailField === '' ? null : matchingKeyOf(after);
  const keyChanged =
    before.emailField !== after.emailField || canonicalJson(keyBefore) !== canonicalJson(keyAfter);
  const keys = [...new Set([...beforeByKey.keys(), ...afterByKey.keys()])];
  const fields = keys.filter((key) => signature(beforeByKey.get(key)) !== signature(afterByKey.get(key)));
  const changedAfter = fields.flatMap((key) =>
    afterByKey.has(key) ? [afterByKey.get(key) as FieldMappingEntry] : [],
  );
  const pushedLocalFields = changedAfter
    .filter((entry) => writesToCrm(entry) && entry.local !== undefined && !entry.formula?.toCrm)
    .map((entry) => entry.local as string)
    .filter((field) => isLocal(field));
  return {
    fields,
    keyChanged,
    push: keyChanged || changedAfter.some(writesToCrm),
    pull: keyChanged || changedAfter.some(writesLocally),
    pushedLocalFields,
  };
}

/**
 * A changed matching key moves no link (links hold record ids): it decides how the next runs match unlinked
 * records. It still rewinds both directions, so the next run compares every linked record again, and it counts the
 * linked records as ones to compare, not as ones that will change.
 *
 * After a mapping change, the next run compares the object's linked records again (three ways, as always: only
 * values that differ are written) instead of re-pushing everything. It does so by rewinding the read positions of
 * the directions whose mapping changed; records that compare equal cost no write.
 */
@Injectable()
export class MappingRecomparison {
  constructor(
    private readonly mappings: FieldMappingRepository,
    private readonly cursors: SyncCursorRepository,
  ) {}

  async schedule(
    connectionId: string,
    object: string,
    changes: MappingChanges,
    subject: MappingSubject = 'contact',
  ): Promise<MappingImpactDto> {
    const linkedRecords = await this.mappings.countLinks(connectionId, object);
    const changed = changes.fields.length > 0 || changes.keyChanged;
    const localObject = subject === 'company' ? LOCAL_COMPANY_OBJECT : LOCAL_CONTACT_OBJECT;
    if (changes.push) await this.cursors.save(connectionId, localObject, 'to_crm', null);
    // Contacts read again are compared again, even those the CRM has not changed since they last synced.
    if (changes.pull) {
      const from = subject === 'company' ? null : RECOMPARE_ALL;
      await this.cursors.save(connectionId, object, 'from_crm', from);
    }
    return {
      linkedRecords,
      changedFields: changes.keyChanged ? ['matchField', ...changes.fields] : changes.fields,
      recordsToCompare: changed ? linkedRecords : 0,
      recordsThatWillChange: await this.mappings.countLinksWithLocalChanges(
        connectionId,
        object,
        changes.pushedLocalFields,
        subject,
      ),
    };
  }
}
