import {
  companyKey,
  LOCAL_COMPANY_FIELDS,
  mappingKey,
  normaliseCompanyName,
  normaliseDomain,
  type CompanyObjectMapping,
  type ConnectorCapabilities,
  type CrmRecord,
  type LocalCompanyField,
  type ObjectMapping,
} from '@pm/integration-port';
import type { SyncDirection } from '@pm/domain/model';
import type { ConflictResolver } from './conflict-resolver';
import {
  decodeCrmValue,
  encodeLocalValue,
  formulaReads,
  formulaResultAsLocal,
  type MappingConnection,
} from './field-mapping';
import { formulaInputOf } from './mapped-values';
import { DEFAULT_FORMULA_LIMITS, evaluateFormula, type FormulaLimits } from './mapping-formulas';
import { hasChanges, planRecord, revertFields, type RecordPlan, type SyncedValues } from './record-planner';

/**
 * How the engine applies a company mapping (the connector's `defaultCompanyMappings`): decoding a CRM company into
 * local values, encoding local values for a write, evaluating its formulas, matching by domain or name, and planning
 * a record three ways with the same planner as contacts. No CRM field name lives here.
 */

export { companyKey, normaliseCompanyName, normaliseDomain, type CompanyObjectMapping };

/**
 * A stored company mapping (`companyMappingAsObjectMapping`) back in company form, with the contact objects the
 * connector associates companies with (not the tenant's to edit).
 */
export const objectMappingAsCompanyMapping = (
  mapping: ObjectMapping,
  associates: readonly string[],
): CompanyObjectMapping => ({
  object: mapping.object,
  fields: mapping.fields as unknown as CompanyObjectMapping['fields'],
  associates,
});

/**
 * Company values in local form, by mapping key: standard and `customFields.<name>` fields, and `=<crm field>` for a
 * value a `toCrm` formula computes for the CRM. Text or null.
 */
export type CompanyValues = Partial<Record<LocalCompanyField | `=${string}`, string | null>>;

/**
 * Where the engine gets a company object's mapping, as `FieldMappingSource` serves contacts: the connector's
 * defaults (`DefaultCompanyMappingSource`), or the tenant's stored mapping seeded from them (in the product).
 */
export interface CompanyMappingSource {
  companyMappingFor(
    connection: MappingConnection,
    object: string,
  ): CompanyObjectMapping | undefined | Promise<CompanyObjectMapping | undefined>;
}

/** A connector's own default company mapping, as its capabilities declare it. */
export class DefaultCompanyMappingSource implements CompanyMappingSource {
  constructor(private readonly capabilities: Pick<ConnectorCapabilities, 'defaultCompanyMappings'>) {}

  companyMappingFor(_connection: MappingConnection | null, object: string): CompanyObjectMapping | undefined {
    const mappings = this.capabilities.defaultCompanyMappings ?? {};
    return Object.hasOwn(mappings, object) ? mappings[object] : undefined;
  }
}

/** The CRM objects a connector syncs as companies: its company objects with a default company mapping. */
export function syncableCompanyObjects(
  capabilities: Pick<ConnectorCapabilities, 'objects' | 'defaultCompanyMappings'>,
): string[] {
  const defaults = capabilities.defaultCompanyMappings ?? {};
  return capabilities.objects
    .filter((candidate) => candidate.role === 'company' && Object.hasOwn(defaults, candidate.name))
    .map((candidate) => candidate.name);
}

/** The company object a connection syncs: the first company object its settings select that has a mapping. */
export async function companyObjectToSync(
  capabilities: Pick<ConnectorCapabilities, 'provider' | 'objects' | 'defaultCompanyMappings'>,
  connection: MappingConnection,
  selected: readonly string[],
  source: CompanyMappingSource = new DefaultCompanyMappingSource(capabilities),
): Promise<CompanyObjectMapping | undefined> {
  for (const candidate of capabilities.objects) {
    if (candidate.role !== 'company' || !selected.includes(candidate.name)) continue;
    const mapping = await source.companyMappingFor(connection, candidate.name);
    if (mapping) return mapping;
  }
  return undefined;
}

/**
 * A company mapping in the contacts' shape, for the machinery both share (the stored `field_mappings` row,
 * validation, preview, the planner): no e-mail key (companies match by domain, else name), the same entries.
 */
export const companyMappingAsObjectMapping = (mapping: CompanyObjectMapping): ObjectMapping =>
  ({
    object: mapping.object,
    emailField: '',
    fields: mapping.fields.map((entry) => ({ ...entry })),
  }) as unknown as ObjectMapping;

/**
 * A CRM company's mapped values in local form, plain copies only (a `fromCrm` formula's value comes from
 * `crmCompanyValues`). A field the CRM did not return at all (a read that leaves optional fields out) is no change:
 * it keeps the last synced value (`base`) where there is one, never clearing a value.
 */
export function decodeCompany(
  mapping: CompanyObjectMapping,
  fields: Record<string, unknown>,
  base?: SyncedValues,
): CompanyValues {
  const values: CompanyValues = {};
  for (const entry of mapping.fields) {
    if (entry.formula?.fromCrm || entry.crm === undefined) continue;
    const key = mappingKey(entry) as keyof CompanyValues;
    const last = base?.[key];
    values[key] =
      !(entry.crm in fields) && last !== undefined
        ? ((last.value ?? null) as string | null)
        : decodeCrmValue(entry, fields);
  }
  return values;
}

/**
 * A CRM company's mapped values with its `fromCrm` formulas evaluated on the record's fields. A formula that throws
 * or runs past its bound throws `FormulaError`, which fails this company only.
 */
export async function crmCompanyValues(
  mapping: CompanyObjectMapping,
  fields: Record<string, unknown>,
  base?: SyncedValues,
  limits: FormulaLimits = DEFAULT_FORMULA_LIMITS,
): Promise<CompanyValues> {
  const values = decodeCompany(mapping, fields, base);
  for (const entry of mapping.fields) {
    if (!entry.formula?.fromCrm) continue;
    const key = mappingKey(entry) as keyof CompanyValues;
    values[key] = formulaResultAsLocal(
      entry,
      await evaluateFormula(key, entry.formula.fromCrm, fields, limits),
    );
  }
  return values;
}

/**
 * A local company's values with what its `toCrm` formulas compute (keyed `=<crm field>`), each formula reading the
 * company's `name`, `domain` and `customFields`. A failing formula throws `FormulaError` (this company only).
 */
export async function localCompanyValues(
  mapping: CompanyObjectMapping,
  values: CompanyValues,
  limits: FormulaLimits = DEFAULT_FORMULA_LIMITS,
): Promise<CompanyValues> {
  const formulas = mapping.fields.filter((entry) => entry.formula?.toCrm);
  if (formulas.length === 0) return values;
  const computed: CompanyValues = { ...values };
  const input = formulaInputOf(values, LOCAL_COMPANY_FIELDS);
  for (const entry of formulas) {
    const key = mappingKey(entry) as keyof CompanyValues;
    computed[key] = await evaluateFormula(key, entry.formula?.toCrm as string, input, limits);
  }
  return computed;
}

/** The CRM write payload for local values, only for fields the mapping lets flow to the CRM. */
export function encodeCompany(mapping: CompanyObjectMapping, values: CompanyValues): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  for (const entry of mapping.fields) {
    const key = mappingKey(entry) as keyof CompanyValues;
    if (entry.direction === 'from_crm' || entry.crm === undefined || !(key in values)) continue;
    payload[entry.crm] = encodeLocalValue(entry, values[key] ?? null);
  }
  return payload;
}

/** The CRM fields a company read asks for: the mapped ones and those `fromCrm` formulas read. */
export const companyFieldsToRead = (mapping: CompanyObjectMapping): string[] => [
  ...new Set(
    mapping.fields.flatMap((entry) => [
      ...(entry.crm === undefined ? [] : [entry.crm]),
      ...formulaReads(entry as Parameters<typeof formulaReads>[0]),
    ]),
  ),
];

/**
 * Whether two companies are the same: the same domain; or, where either has no domain, the same normalised name.
 * Two different domains are two companies whatever their names.
 */
export function sameCompany(a: CompanyValues, b: CompanyValues): boolean {
  const domainA = normaliseDomain(a.domain);
  const domainB = normaliseDomain(b.domain);
  if (domainA !== null && domainB !== null) return domainA === domainB;
  const nameA = normaliseCompanyName(a.name);
  return nameA !== null && nameA === normaliseCompanyName(b.name);
}

/**
 * Of `candidates`, the ones that are the same company as `wanted`: those with its domain when any has it, else
 * those matched by name.
 */
export function matchingCompanies<T>(
  wanted: CompanyValues,
  candidates: readonly T[],
  valuesOf: (candidate: T) => CompanyValues,
): T[] {
  const same = candidates.filter((candidate) => sameCompany(wanted, valuesOf(candidate)));
  const domain = normaliseDomain(wanted.domain);
  const byDomain = same.filter(
    (candidate) => domain !== null && normaliseDomain(valuesOf(candidate).domain) === domain,
  );
  return byDomain.length > 0 ? byDomain : same;
}

/** The CRM records of a look-up that are the company `wanted` (exact, after normalising). */
export const crmMatches = (
  mapping: CompanyObjectMapping,
  wanted: CompanyValues,
  found: readonly CrmRecord[],
): CrmRecord[] => matchingCompanies(wanted, found, (record) => decodeCompany(mapping, record.fields));

/** A plan's values in company form (the planner is shared with contacts and speaks in field names). */
export interface CompanyPlan extends Omit<RecordPlan, 'toLocal' | 'toCrm'> {
  toLocal: CompanyValues;
  toCrm: CompanyValues;
}

/**
 * Plans one company three ways (base, local, CRM) with the contacts' planner: the same rules, conflict policy and
 * provenance. The planner reads only each entry's local name and direction, so the company entries fit it as they
 * are.
 */
export function planCompany(input: {
  mapping: CompanyObjectMapping;
  direction: SyncDirection;
  resolver: ConflictResolver;
  base?: SyncedValues;
  local: { values: CompanyValues; modifiedAt: string };
  crm?: { values: CompanyValues; modifiedAt: string };
  at: string;
  runId?: string;
}): CompanyPlan {
  const asContactMapping = companyMappingAsObjectMapping(input.mapping);
  return planRecord({ ...input, mapping: asContactMapping } as Parameters<
    typeof planRecord
  >[0]) as CompanyPlan;
}

/** Whether any value is set to be written. */
export const hasCompanyFields = (values: CompanyValues): boolean => Object.keys(values).length > 0;

/** Whether any field moved on either side (a company that did not needs no new link snapshot). */
export const companyChanged = (plan: CompanyPlan): boolean => hasChanges(plan as unknown as RecordPlan);

/** A write of `written` failed: the base keeps the old values of those fields, so they are written next run. */
export function revertCompanyFields(
  plan: CompanyPlan,
  written: CompanyValues,
  base: SyncedValues | undefined,
): void {
  revertFields(plan as unknown as RecordPlan, written as RecordPlan['toLocal'], base);
}
