import type { CompanyObjectMapping, CompanyPlan, CompanyValues } from './company-mapping';
import { planCompany } from './company-mapping';
import type { LocalCompany, LocalCompanyStore } from './company-ports';
import { LOCAL_COMPANY_OBJECT } from './company-ports';
import type { LinkSnapshot } from './ports';
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
