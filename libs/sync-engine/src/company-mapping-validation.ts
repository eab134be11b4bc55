import {
  COMPANY_VALUE_CODECS,
  isLocalCompanyField,
  LOCAL_COMPANY_FIELDS,
  type FieldMappingEntry,
  type ObjectMapping,
} from '@pm/integration-port';

/**
 * What `validateMapping` checks besides the shared rules when the object's records are companies: a company mapping
 * in the stored shape (`companyMappingAsObjectMapping`) has no e-mail key, syncs the name, and has no formulas (value maps apply).
 */

/** A `MappingProblem` (declared here too, so this file and mapping-validation.ts do not import each other). */
interface MappingProblem {
  name: string;
  reason: string;
}

/** A company mapping as a whole: companies are matched by domain, else name, so the name must be synced. */
export function companyProblems(mapping: ObjectMapping): MappingProblem[] {
  const problems: MappingProblem[] = [];
  if (mapping.emailField !== '') {
    problems.push({
      name: 'matchField',
      reason: 'companies are matched by their domain, else their name; leave matchField out',
    });
  }
  if (mapping.matchKey !== undefined) {
    problems.push({
      name: 'matchLocalField',
      reason: 'companies are matched by their domain, else their name; leave matchLocalField out',
    });
  }
  if (!mapping.fields.some((entry) => (entry.local as string | undefined) === 'name')) {
    problems.push({ name: 'fields', reason: 'a company mapping needs a CRM field mapped to name' });
  }
  return problems;
}

/** What a company entry may be: a company field and a CRM field (text or domain, through a value map if given). */
export function companyEntryProblems(entry: FieldMappingEntry, at: string): MappingProblem[] {
  const problems: MappingProblem[] = [];
  if (entry.local === undefined || !isLocalCompanyField(entry.local)) {
    problems.push({
      name: `${at}.local`,
      reason: `${entry.local === undefined ? 'a PenguinMails field is required' : `"${entry.local}" is not a PenguinMails company field`} (${LOCAL_COMPANY_FIELDS.join(', ')} or customFields.<name>)`,
    });
  }
  if (!(COMPANY_VALUE_CODECS as readonly string[]).includes(entry.codec)) {
    problems.push({
      name: `${at}.codec`,
      reason: `a company field is copied as ${COMPANY_VALUE_CODECS.join(' or ')}, not "${entry.codec}"`,
    });
  }
  for (const part of ['associated', 'formula'] as const) {
    if (entry[part] !== undefined) {
      problems.push({ name: `${at}.${part}`, reason: `company mappings do not support ${part} yet` });
    }
  }
  return problems;
}
