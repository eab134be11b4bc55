import { LOCAL_COMPANY_FIELDS } from '@pm/integration-port';
import {
  decodeCrmValue,
  encodeLocalValue,
  formulaResultAsLocal,
  LOCAL_CONTACT_FIELDS,
  mappingKey,
  type FieldMappingEntry,
  type LocalValues,
  type ObjectMapping,
} from './field-mapping';
import { formulaInputOf } from './mapped-values';
import {
  DEFAULT_FORMULA_LIMITS,
  evaluateFormula,
  FormulaError,
  type FormulaLimits,
} from './mapping-formulas';

/**
 * A mapping tried on one sample record from either side, field by field, before it is saved: what would be written
 * to the CRM from the PenguinMails contact, and what would be written locally from the CRM record. A formula that
 * fails says so on its field and leaves the others to show their values.
 */

export interface FieldPreview {
  /** The mapping key: local field, or `=<crm field>` for a value a toCrm formula computes. */
  key: string;
  local: string | null;
  crm: string | null;
  direction: FieldMappingEntry['direction'];
  /** To the CRM (when the field flows that way and a contact was given): the value as written, or the error. */
  toCrm?: { value: unknown } | { error: string };
  /** From the CRM (when the field flows that way and a record was given): the local value, or the error. */
  fromCrm?: { value: string | null } | { error: string };
}

export interface PreviewSample {
  /** The PenguinMails contact's (or company's) values (standard and `customFields.<name>`). */
  local?: LocalValues;
  /** The CRM record's fields as read. */
  crm?: Record<string, unknown>;
  /** What the local values are (a `toCrm` formula reads that record's standard fields); contact by default. */
  subject?: 'contact' | 'company';
}

async function toCrmPreview(
  entry: FieldMappingEntry,
  values: LocalValues,
  subject: PreviewSample['subject'],
  limits: FormulaLimits,
): Promise<FieldPreview['toCrm']> {
  const key = mappingKey(entry);
  const standard = subject === 'company' ? LOCAL_COMPANY_FIELDS : LOCAL_CONTACT_FIELDS;
  try {
    const local = entry.formula?.toCrm
      ? await evaluateFormula(key, entry.formula.toCrm, formulaInputOf(values, standard), limits)
      : ((values as Record<string, string | null | undefined>)[key] ?? null);
    return { value: encodeLocalValue(entry, local) };
  } catch (error) {
    if (error instanceof FormulaError) return { error: error.message };
    throw error;
  }
}

async function fromCrmPreview(
  entry: FieldMappingEntry,
  fields: Record<string, unknown>,
  limits: FormulaLimits,
): Promise<FieldPreview['fromCrm']> {
  const key = mappingKey(entry);
  try {
    if (!entry.formula?.fromCrm) return { value: decodeCrmValue(entry, fields) };
    const value = await evaluateFormula(key, entry.formula.fromCrm, fields, limits);
    return { value: formulaResultAsLocal(entry, value) };
  } catch (error) {
    if (error instanceof FormulaError) return { error: error.message };
    throw error;
  }
}

/** The whole preview's formula time: past it, the remaining formulas are not evaluated (one request's bound). */
export const PREVIEW_BUDGET_MS = 1_000;

export async function previewMapping(
  mapping: ObjectMapping,
  sample: PreviewSample,
  limits: FormulaLimits = DEFAULT_FORMULA_LIMITS,
  now: () => number = Date.now,
): Promise<FieldPreview[]> {
  const previews: FieldPreview[] = [];
  const deadline = now() + PREVIEW_BUDGET_MS;
  const skipped = { error: `not evaluated: the preview's ${PREVIEW_BUDGET_MS} ms for formulas was used up` };
  for (const entry of mapping.fields) {
    if (entry.formula && now() > deadline) {
      previews.push({
        key: mappingKey(entry),
        local: entry.local ?? null,
        crm: entry.crm ?? null,
        direction: entry.direction,
        ...(entry.formula.toCrm ? { toCrm: skipped } : {}),
        ...(entry.formula.fromCrm ? { fromCrm: skipped } : {}),
      });
      continue;
    }
    const preview: FieldPreview = {
      key: mappingKey(entry),
      local: entry.local ?? null,
      crm: entry.crm ?? null,
      direction: entry.direction,
    };
    if (sample.local && entry.direction !== 'from_crm' && entry.crm !== undefined) {
      preview.toCrm = await toCrmPreview(entry, sample.local, sample.subject, limits);
    }
    if (sample.crm && entry.direction !== 'to_crm') {
      preview.fromCrm = await fromCrmPreview(entry, sample.crm, limits);
    }
    previews.push(preview);
  }
  return previews;
}
