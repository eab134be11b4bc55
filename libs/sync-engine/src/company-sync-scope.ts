import type { CompanyObjectMapping, CompanyPlan, CompanyValues } from './company-mapping';
import { localCompanyValues, normaliseCompanyName, normaliseDomain, planCompany } from './company-mapping';
import type { LocalCompany, LocalCompanyStore } from './company-ports';
import { LOCAL_COMPANY_OBJECT } from './company-ports';
import { FormulaError } from './mapping-formulas';
import type { LinkSnapshot, RetryItem } from './ports';
import type { SyncedValues } from './record-planner';
import type { SyncRunScope } from './sync-run-scope';

/** A run's scope with what company sync adds: the local companies and the company object's mapping. */
export interface CompanyRunScope {
  run: SyncRunScope;
  companies: LocalCompanyStore;
  mapping: CompanyObjectMapping;
}

export const companyValues = (company: LocalCompany): CompanyValues => ({
  name: company.name,
  domain: company.domain,
  ...Object.fromEntries(
    Object.entries(company.customFields ?? {}).map(([name, value]) => [`customFields.${name}`, value]),
  ),
});

/** The label a log line names a company by: its domain, else its name. */
export const companyLabel = (values: CompanyValues): string => values.domain ?? values.name ?? '(unnamed)';

/** Plans one company of the run against its last synced values. */
export function planCompanyForRun(
  scope: CompanyRunScope,
  input: {
    base?: SyncedValues;
    local: { values: CompanyValues; modifiedAt: string };
    crm?: { values: CompanyValues; modifiedAt: string };
  },
): CompanyPlan {
  return planCompany({
    ...input,
    mapping: scope.mapping,
    direction: scope.run.connection.settings.direction,
    resolver: scope.run.resolver,
    at: scope.run.now().toISOString(),
    runId: scope.run.runId,
  });
}

/** The link to save for a synced company pair. */
export function companyLink(
  scope: CompanyRunScope,
  pair: {
    link?: LinkSnapshot;
    localId: string;
    crmId: string;
    plan: CompanyPlan;
    localUpdatedAt: Date | null;
    crmModifiedAt: Date | null;
  },
): LinkSnapshot {
  return {
    id: pair.link?.id,
    localObject: LOCAL_COMPANY_OBJECT,
    localId: pair.localId,
    crmObject: scope.mapping.object,
    crmId: pair.crmId,
    synced: pair.plan.synced,
    localUpdatedAt: pair.localUpdatedAt,
    crmModifiedAt: pair.crmModifiedAt,
    lastSyncedAt: scope.run.now(),
  };
}

/**
 * Runs `compute` for one company record; a formula that fails there fails this record only: counted, logged with
 * the formula's message and put on the retry list as `failed` (the local company to_crm, the CRM record with its
 * payload from_crm), while the rest of the page goes on.
 */
export async function unlessFormulaFails<T>(
  scope: CompanyRunScope,
  failed: Omit<RetryItem, 'error' | 'object'>,
  compute: () => Promise<T>,
): Promise<T | undefined> {
  const { run, mapping } = scope;
  try {
    return await compute();
  } catch (error) {
    if (!(error instanceof FormulaError)) throw error;
    const item = { ...failed, object: mapping.object, error: error.message };
    await run.journal.mappingFailed(item, run.crmName, 'Company');
    return undefined;
  }
}

/** The failure record of a local company written to the CRM. */
export const outboundFailure = (company: LocalCompany): Omit<RetryItem, 'error' | 'object'> => ({
  direction: 'to_crm',
  recordId: company.id,
  recordKey: companyLabel(companyValues(company)),
});

/**
 * A local company as one side of a plan, `toCrm` formulas evaluated (so they compare with the CRM's values);
 * undefined when one failed (logged as `failed`, outbound by default).
 */
export function companyLocalSide(
  scope: CompanyRunScope,
  company: LocalCompany,
  failed = outboundFailure(company),
): Promise<{ values: CompanyValues; modifiedAt: string } | undefined> {
  return unlessFormulaFails(scope, failed, async () => ({
    values: await localCompanyValues(scope.mapping, companyValues(company), scope.run.formulaLimits),
    modifiedAt: company.updatedAt.toISOString(),
  }));
}

/** The names and domains to look a set of companies up by. */
export function lookupTerms(values: readonly { name?: string | null; domain?: string | null }[]): {
  names: string[];
  domains: string[];
} {
  return {
    names: [
      ...new Set(
        values.flatMap((value) => (normaliseCompanyName(value.name) === null ? [] : [value.name!.trim()])),
      ),
    ],
    domains: [...new Set(values.flatMap((value) => normaliseDomain(value.domain) ?? []))],
  };
}
