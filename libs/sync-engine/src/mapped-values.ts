import type { CrmRecord } from '@pm/integration-port';
import {
  associatedValuesOf,
  customFieldName,
  decodeCrmRecord,
  formulaResultAsLocal,
  LOCAL_CONTACT_FIELDS,
  mappingKey,
  type AssociatedRecords,
  type LocalValues,
  type ObjectMapping,
} from './field-mapping';
import { DEFAULT_FORMULA_LIMITS, evaluateFormula, type FormulaLimits } from './mapping-formulas';
import type { LocalContact } from './ports';
import type { RecordSide } from './record-planner';

/**
 * Each side of a record as the planner compares it, formulas evaluated: the local contact's values (plus what a
 * `toCrm` formula computes from them) and the CRM record's decoded values (a `fromCrm` formula replacing the plain
 * copy). A formula that fails throws `FormulaError`, which fails that record only.
 */

/**
 * The input a `toCrm` formula reads: the record's standard fields (`standard`: a contact's or a company's) and its
 * `customFields` object.
 */
export function formulaInputOf(
  values: Readonly<Record<string, string | null | undefined>>,
  standard: readonly string[],
): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const customFields: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(values)) {
    const custom = customFieldName(field);
    if (custom !== undefined) customFields[custom] = value;
    else if (standard.includes(field)) input[field] = value;
  }
  return { ...input, customFields };
}

/** The input a contact's `toCrm` formula reads: its standard fields and its `customFields` object. */
export const formulaInputOfContact = (values: LocalContact['values']): Record<string, unknown> =>
  formulaInputOf(values, LOCAL_CONTACT_FIELDS);

/** The local values of a contact a mapping compares, `toCrm` formulas evaluated. */
export async function localValuesOf(
  mapping: ObjectMapping,
  values: LocalContact['values'],
  limits: FormulaLimits = DEFAULT_FORMULA_LIMITS,
): Promise<LocalValues> {
  const formulas = mapping.fields.filter((entry) => entry.formula?.toCrm);
  if (formulas.length === 0) return values;
  const computed: LocalValues = { ...values };
  const input = formulaInputOfContact(values);
  for (const entry of formulas) {
    const key = mappingKey(entry);
    computed[key] = await evaluateFormula(key, entry.formula?.toCrm as string, input, limits);
  }
  return computed;
}

/** A CRM record's values in local form, associated records' values included, `fromCrm` formulas evaluated. */
export async function crmValuesOf(
  mapping: ObjectMapping,
  record: Pick<CrmRecord, 'fields' | 'associations'>,
  associated: AssociatedRecords,
  limits: FormulaLimits = DEFAULT_FORMULA_LIMITS,
): Promise<LocalValues> {
  const values = decodeCrmRecord(mapping, record.fields, associatedValuesOf(mapping, record, associated));
  for (const entry of mapping.fields) {
    if (!entry.formula?.fromCrm) continue;
    const key = mappingKey(entry);
    const result = await evaluateFormula(key, entry.formula.fromCrm, record.fields, limits);
    values[key] = formulaResultAsLocal(entry, result);
  }
  return values;
}

/** A local contact as one side of a plan. */
export async function localSideOf(
  mapping: ObjectMapping,
  contact: LocalContact,
  limits?: FormulaLimits,
): Promise<RecordSide> {
  return {
    values: await localValuesOf(mapping, contact.values, limits),
    modifiedAt: contact.updatedAt.toISOString(),
  };
}

/** A CRM record as one side of a plan. */
export async function crmSideOf(
  mapping: ObjectMapping,
  record: CrmRecord,
  associated: AssociatedRecords,
  limits?: FormulaLimits,
): Promise<RecordSide> {
  return {
    values: await crmValuesOf(mapping, record, associated, limits),
    modifiedAt: record.modifiedAt,
  };
}
