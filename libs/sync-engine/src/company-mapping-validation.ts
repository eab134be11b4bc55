import {
  COMPANY_VALUE_CODECS,
  isLocalCompanyField,
  LOCAL_COMPANY_FIELDS,
  type FieldMappingEntry,
  type ObjectMapping,
} from '@pm/integration-port';

/**
 * What `validateMapping` checks besides the shared rules when the object's records are companies: a company mapping
 * in the stored shape (`companyMappingAsObjectMapping`) has no e-mail key, syncs the name, and keeps the fields companies
 * are matched by (name, domain) plain copies of the CRM's; value maps and formulas apply as for contacts.
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

/** The company fields companies are matched by: a `fromCrm` formula may not compute them (see below). */
const MATCHED_BY: readonly string[] = ['name', 'domain'];

/** The input fields a company's `toCrm` formula may read: its standard fields and its `customFields`. */
export const isCompanyFormulaInput = (field: string): boolean =>
  (LOCAL_COMPANY_FIELDS as readonly string[]).includes(field) || field === 'customFields';

/**
 * What a company entry may be: a company field (none for a value a `toCrm` formula computes) and a CRM field, text or
 * domain, through a value map or a formula if given.
 */
export function companyEntryProblems(entry: FieldMappingEntry, at: string): MappingProblem[] {
  const problems: MappingProblem[] = [];
  if (entry.local === undefined) {
    if (!entry.formula?.toCrm) {
      problems.push({
        name: `${at}.local`,
        reason: `a PenguinMails field is required, or a toCrm formula (${LOCAL_COMPANY_FIELDS.join(', ')} or customFields.<name>)`,
      });
    }
  } else if (!isLocalCompanyField(entry.local)) {
    problems.push({
      name: `${at}.local`,
      reason: `"${entry.local}" is not a PenguinMails company field (${LOCAL_COMPANY_FIELDS.join(', ')} or customFields.<name>)`,
    });
  }
  if (!(COMPANY_VALUE_CODECS as readonly string[]).includes(entry.codec)) {
    problems.push({
      name: `${at}.codec`,
      reason: `a company field is copied as ${COMPANY_VALUE_CODECS.join(' or ')}, not "${entry.codec}"`,
    });
  }
  if (entry.associated !== undefined) {
    problems.push({ name: `${at}.associated`, reason: 'company mappings do not read associated records' });
  }
  if (entry.formula?.fromCrm && entry.local !== undefined && MATCHED_BY.includes(entry.local)) {
    // Look-ups before a create compare the CRM's own name and domain; a computed one would miss the company and
    // create it twice.
    problems.push({
      name: `${at}.formula.fromCrm`,
      reason: `companies are matched by ${MATCHED_BY.join(' and ')} as the CRM holds them; a formula cannot compute ${entry.local} (compute a custom field instead)`,
    });
  }
  return problems;
}
