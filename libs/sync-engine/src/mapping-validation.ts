import {
  isLocalContactField,
  LOCAL_COMPANY_FIELDS,
  LOCAL_CONTACT_FIELDS,
  mappingKey,
  type FieldDescriptor,
  type FieldMappingEntry,
  type ObjectMapping,
} from '@pm/integration-port';
import { companyEntryProblems, companyProblems, isCompanyFormulaInput } from './company-mapping-validation';
import { checkFormula } from './mapping-formulas';
import { matchingKeyProblems } from './matching-key-validation';

/**
 * Checks a tenant's mapping before it is saved, against the CRM's fields as discovered (describeObject). Each
 * problem names the part of the mapping at fault (`fields[2].crm`), the way the API reports invalid parameters.
 * Pure: the caller supplies the described fields and the connector's defaults.
 */

export interface MappingProblem {
  /** Where in the mapping: `object`, `matchField`, `fields`, `fields[2].crm`, `fields[0].formula.toCrm`, … */
  name: string;
  reason: string;
}

export interface MappingValidationContext {
  /** The CRM objects this connection can sync as contacts. */
  syncableObjects: readonly string[];
  /** The object's fields as the CRM describes them, custom fields included. */
  crmFields: readonly FieldDescriptor[];
  /** The connector's default mapping of the object: its entries are trusted, and it says which fields it fills. */
  defaults?: ObjectMapping;
  /** The CRM's display name, for messages ("Salesforce"). */
  crmName?: string;
  /** Every object the connector knows, for entries read from an associated record. */
  crmObjects?: readonly string[];
  /**
   * What the object's records become locally: contacts (the default), or companies (`companyMappingAsObjectMapping`:
   * matched by domain, else name, so no e-mail key; company fields; formulas read the company's fields).
   */
  subject?: 'contact' | 'company';
}

/** CRM field types a PenguinMails text field cannot be written into as is (a formula can convert). */
const NON_TEXT_TYPES = new Set(['number', 'boolean', 'date', 'datetime', 'reference', 'id']);

export const writesToCrm = (entry: Pick<FieldMappingEntry, 'direction'>): boolean =>
  entry.direction !== 'from_crm';
export const writesLocally = (entry: Pick<FieldMappingEntry, 'direction'>): boolean =>
  entry.direction !== 'to_crm';

/** A value as text with object keys sorted and undefined properties left out (jsonb does not keep key order). */
export function canonicalJson(value: unknown): string {
  const canonical = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(canonical);
    if (item === null || typeof item !== 'object') return item;
    const record = item as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .sort()
        .filter((key) => record[key] !== undefined)
        .map((key) => [key, canonical(record[key])]),
    );
  };
  return JSON.stringify(canonical(value ?? null));
}

/** An entry's content as text: key order and undefined properties do not count. */
export const entrySignature = (entry: FieldMappingEntry | undefined): string => canonicalJson(entry);

const sameEntry = (a: FieldMappingEntry, b: FieldMappingEntry): boolean =>
  entrySignature(a) === entrySignature(b);

/** The input fields a `toCrm` formula may read: the contact's standard fields and its `customFields`. */
const isLocalInput = (field: string): boolean =>
  (LOCAL_CONTACT_FIELDS as readonly string[]).includes(field) || field === 'customFields';

/**
 * The reference field a dotted path (`Account.Name`) reads through: the field itself, or by the usual relationship
 * naming (`AccountId` → `Account`, `Partner__c` → `Partner__r`).
 */
function relationOf(path: string, byName: ReadonlyMap<string, FieldDescriptor>): FieldDescriptor | undefined {
  if (!path.includes('.')) return undefined;
  const [relation] = path.split('.');
  const candidates = [relation, `${relation}Id`, relation.replace(/__r$/, '__c')];
  return candidates
    .map((name) => byName.get(name))
    .find((field) => field?.type === 'reference' || field?.name === relation);
}

export function validateMapping(mapping: ObjectMapping, context: MappingValidationContext): MappingProblem[] {
  const problems: MappingProblem[] = [];
  const crmName = context.crmName ?? 'the CRM';
  if (!context.syncableObjects.includes(mapping.object)) {
    problems.push({
      name: 'object',
      reason: `${crmName} object "${mapping.object}" cannot be synced by this connection (it syncs: ${context.syncableObjects.join(', ') || 'none'})`,
    });
    return problems;
  }
  const byName = new Map(context.crmFields.map((field) => [field.name, field]));
  const known = (name: string) => byName.has(name) || relationOf(name, byName) !== undefined;
  const company = context.subject === 'company';
  if (company) problems.push(...companyProblems(mapping));
  else problems.push(...matchingKeyProblems(mapping, byName, { ...context, crmName }));
  const defaults = context.defaults?.fields ?? [];
  mapping.fields.forEach((entry, index) => {
    const trusted = defaults.some((candidate) => sameEntry(candidate, entry));
    problems.push(...validateEntry(entry, `fields[${index}]`, byName, known, trusted, company));
    if (entry.associated && context.crmObjects && !context.crmObjects.includes(entry.associated.object)) {
      problems.push({
        name: `fields[${index}].associated.object`,
        reason: `"${entry.associated.object}" is not an object of ${crmName}`,
      });
    }
    if (entry.associated && writesToCrm(entry) && entry.crm === undefined) {
      problems.push({
        name: `fields[${index}].direction`,
        reason: 'a value read only from an associated record can only flow from_crm',
      });
    }
  });
  problems.push(...duplicateTargets(mapping.fields));
  problems.push(...requiredUnmapped(mapping, context, crmName));
  return problems;
}

function validateEntry(
  entry: FieldMappingEntry,
  at: string,
  byName: ReadonlyMap<string, FieldDescriptor>,
  known: (name: string) => boolean,
  trusted: boolean,
  company = false,
): MappingProblem[] {
  const problems: MappingProblem[] = [];
  const toCrmFormula = entry.formula?.toCrm;
  const fromCrmFormula = entry.formula?.fromCrm;
  if (company) {
    problems.push(...companyEntryProblems(entry, at));
  } else if (entry.local !== undefined && !isLocalContactField(entry.local)) {
    problems.push({
      name: `${at}.local`,
      reason: `"${entry.local}" is not a PenguinMails contact field (a standard field or customFields.<name>)`,
    });
  }
  if (!company && entry.local === undefined && !toCrmFormula) {
    problems.push({ name: `${at}.local`, reason: 'a PenguinMails field is required (or a toCrm formula)' });
  }
  if (entry.local !== undefined && toCrmFormula) {
    problems.push({
      name: `${at}.local`,
      reason: 'a field computed by a toCrm formula has no PenguinMails field; leave it out',
    });
  }
  if (entry.crm === undefined && !entry.associated && !fromCrmFormula) {
    problems.push({ name: `${at}.crm`, reason: 'a CRM field is required (or a fromCrm formula)' });
  }
  if (toCrmFormula && entry.direction !== 'to_crm') {
    problems.push({ name: `${at}.direction`, reason: 'a toCrm formula flows to the CRM only: use "to_crm"' });
  }
  if (fromCrmFormula && entry.direction !== 'from_crm') {
    problems.push({
      name: `${at}.direction`,
      reason: 'a fromCrm formula flows from the CRM only: use "from_crm"',
    });
  }
  const crmField = entry.crm === undefined ? undefined : byName.get(entry.crm);
  if (entry.crm !== undefined && !trusted && !known(entry.crm)) {
    problems.push({ name: `${at}.crm`, reason: `"${entry.crm}" is not a field of this CRM object` });
  }
  if (entry.crm !== undefined && writesToCrm(entry)) {
    if (entry.crm.includes('.') && !crmField) {
      problems.push({
        name: `${at}.direction`,
        reason: `"${entry.crm}" is a related record's field: from_crm only`,
      });
    } else if (crmField?.readOnly) {
      problems.push({
        name: `${at}.direction`,
        reason: `"${entry.crm}" is read-only in the CRM; it can only flow from_crm`,
      });
    }
  }
  if (toCrmFormula) {
    const input = company ? isCompanyFormulaInput : isLocalInput;
    problems.push(...formulaProblems(`${at}.formula.toCrm`, toCrmFormula, input));
  }
  if (fromCrmFormula) problems.push(...formulaProblems(`${at}.formula.fromCrm`, fromCrmFormula, known));
  if (crmField && !crmField.readOnly && writesToCrm(entry) && !toCrmFormula && !trusted) {
    problems.push(
      ...typeProblems(entry, at, crmField, company ? LOCAL_COMPANY_FIELDS : LOCAL_CONTACT_FIELDS),
    );
  }
  return problems;
}

function formulaProblems(at: string, source: string, known: (field: string) => boolean): MappingProblem[] {
  const check = checkFormula(source, known);
  if (check.syntaxError) return [{ name: at, reason: `not a valid JSONata formula: ${check.syntaxError}` }];
  return check.unknownFields.map((field) => ({
    name: at,
    reason: `reads "${field}", which is not a field here`,
  }));
}

/** A PenguinMails value written into the CRM field: its type must take text, a picklist needs a value map. */
function typeProblems(
  entry: FieldMappingEntry,
  at: string,
  crmField: FieldDescriptor,
  standardFields: readonly string[],
): MappingProblem[] {
  const local = entry.local ?? '';
  // Custom fields hold whatever the tenant stores (numbers, dates); standard fields are text.
  const standard = standardFields.includes(local);
  if (standard && NON_TEXT_TYPES.has(crmField.type)) {
    return [
      {
        name: `${at}.crm`,
        reason: `"${crmField.name}" is a ${crmField.type} field; the text of ${local} cannot be written into it (use a formula)`,
      },
    ];
  }
  if (crmField.type !== 'picklist' && crmField.type !== 'multipicklist') return [];
  const toCrm = entry.valueMap?.toCrm;
  if (!toCrm || Object.keys(toCrm).length === 0) {
    return [
      {
        name: `${at}.valueMap`,
        reason: `"${crmField.name}" is a picklist; give a toCrm value map from ${local} values to its values`,
      },
    ];
  }
  const allowed = new Set((crmField.options ?? []).map((option) => option.value));
  if (allowed.size === 0) return [];
  return Object.entries(toCrm)
    .filter(([, value]) => !allowed.has(value))
    .map(([from, value]) => ({
      name: `${at}.valueMap.toCrm.${from}`,
      reason: `"${value}" is not a value of picklist "${crmField.name}" (${[...allowed].join(', ')})`,
    }));
}

/** Two entries writing one CRM field, or one PenguinMails field. */
function duplicateTargets(entries: readonly FieldMappingEntry[]): MappingProblem[] {
  const problems: MappingProblem[] = [];
  const crmWriters = new Map<string, number>();
  const localWriters = new Map<string, number>();
  entries.forEach((entry, index) => {
    if (writesToCrm(entry) && entry.crm !== undefined) {
      const first = crmWriters.get(entry.crm.toLowerCase());
      if (first !== undefined) {
        problems.push({
          name: `fields[${index}].crm`,
          reason: `"${entry.crm}" is already written by fields[${first}]; one source per target`,
        });
      } else crmWriters.set(entry.crm.toLowerCase(), index);
    }
    if (writesLocally(entry)) {
      const key = mappingKey(entry);
      const first = localWriters.get(key);
      if (first !== undefined) {
        problems.push({
          name: `fields[${index}].local`,
          reason: `"${key}" is already written by fields[${first}]; one source per target`,
        });
      } else localWriters.set(key, index);
    }
  });
  return problems;
}

/**
 * Required CRM fields nothing writes: a create would fail. Fields the connector fills itself (required, but left
 * out of its own default mapping, like a Pipedrive person's name built from its parts) are not asked for.
 */
function requiredUnmapped(
  mapping: ObjectMapping,
  context: MappingValidationContext,
  crmName: string,
): MappingProblem[] {
  const written = new Set(
    mapping.fields
      .filter((entry) => writesToCrm(entry) && entry.crm)
      .map((entry) => entry.crm?.toLowerCase()),
  );
  const defaultWritten = new Set(
    (context.defaults?.fields ?? [])
      .filter((entry) => writesToCrm(entry) && entry.crm)
      .map((entry) => entry.crm?.toLowerCase()),
  );
  return context.crmFields
    .filter((field) => field.required && !field.readOnly && !written.has(field.name.toLowerCase()))
    .filter((field) => field.custom || defaultWritten.has(field.name.toLowerCase()))
    .map((field) => ({
      name: 'fields',
      reason: `${crmName} requires "${field.name}" to create a record; map a field or a toCrm formula to it`,
    }));
}
