import type { CrmRecord } from '@pm/integration-port';
import {
  crmCompanyValues,
  decodeCompany,
  matchingCompanies,
  normaliseCompanyName,
  normaliseDomain,
  type CompanyPlan,
  type CompanyValues,
} from './company-mapping';
import { LOCAL_COMPANY_OBJECT, type LocalCompany } from './company-ports';
import {
  companyLabel,
  companyLocalSide,
  companyValues,
  planCompanyForRun,
  unlessFormulaFails,
  type CompanyRunScope,
} from './company-sync-scope';
import type { LinkSnapshot, RetryItem } from './ports';
import { EPOCH } from './sync-run-scope';

/** A CRM company of a page with its local company (if any) and its three-way plan. */
export interface InboundCompany {
  record: CrmRecord;
  label: string;
  link?: LinkSnapshot;
  local?: LocalCompany;
  plan: CompanyPlan;
  failed?: boolean;
}

/**
 * Matches a page of CRM companies to local ones: by link, else by domain or name (never to a company another CRM
 * record already holds, never twice within the page), decodes their values (`fromCrm` formulas included) and plans
 * each three ways. Records that cannot be used are logged and skipped.
 */
export class CompanyInboundMatcher {
  constructor(private readonly scope: CompanyRunScope) {}

  /**
   * Each record's values, `fromCrm` formulas evaluated. A record whose formula fails is logged with the formula's
   * message and put on the retry list; the rest of the page goes on.
   */
  private async decode(
    records: readonly CrmRecord[],
    linkByCrmId: ReadonlyMap<string, LinkSnapshot>,
  ): Promise<Map<string, CompanyValues>> {
    const { run, mapping } = this.scope;
    const decoded = new Map<string, CompanyValues>();
    for (const record of records) {
      const base = linkByCrmId.get(record.id)?.synced;
      const label = companyLabel(decodeCompany(mapping, record.fields, base));
      const values = await unlessFormulaFails(this.scope, this.failure(record, label), () =>
        crmCompanyValues(mapping, record.fields, base, run.formulaLimits),
      );
      if (values !== undefined) decoded.set(record.id, values);
    }
    return decoded;
  }

  /** The failure record of a CRM company read: retried from its payload. */
  private failure(record: CrmRecord, label: string): Omit<RetryItem, 'error' | 'object'> {
    return { direction: 'from_crm', recordId: record.id, recordKey: label, payload: record };
  }

  /** Each record's local company (by link, else domain or name) and plan; unusable records are logged and skipped. */
  async match(page: readonly CrmRecord[]): Promise<InboundCompany[]> {
    const { run, companies, mapping } = this.scope;
    const { connection, journal, crmName } = run;
    const object = mapping.object;
    const counts = journal.count('from_crm', object);
    const links = await run.links.findByCrmIds(
      connection.id,
      object,
      page.map((record) => record.id),
    );
    const linkByCrmId = new Map(links.map((link) => [link.crmId, link]));
    const decoded = await this.decode(page, linkByCrmId);
    const records = page.filter((record) => decoded.has(record.id));
    const unlinked = records.filter((record) => !linkByCrmId.has(record.id));
    const [linkedLocals, candidates] = await Promise.all([
      companies.findByIds(
        connection.tenantId,
        links.map((link) => link.localId),
      ),
      companies.findMatching(connection.tenantId, {
        domains: unlinked.flatMap((record) => normaliseDomain(decoded.get(record.id)?.domain) ?? []),
        names: unlinked.flatMap((record) => normaliseCompanyName(decoded.get(record.id)?.name) ?? []),
      }),
    ]);
    const localById = new Map([...linkedLocals, ...candidates].map((company) => [company.id, company]));
    const claimed = new Map<string, string>();
    for (const link of await run.links.findByLocalIds(
      connection.id,
      candidates.map((company) => company.id),
      LOCAL_COMPANY_OBJECT,
    )) {
      if (link.crmObject === object) claimed.set(link.localId, link.crmId);
    }
    const items: InboundCompany[] = [];
    const newInPage: { values: CompanyValues; crmId: string }[] = [];
    for (const record of records) {
      const values = decoded.get(record.id) ?? {};
      const label = companyLabel(values);
      const link = linkByCrmId.get(record.id);
      let local = link ? localById.get(link.localId) : undefined;
      if (link && (!local || local.deletedAt)) {
        counts.skipped++; // Deleted in PenguinMails: the outbound pass ends the link.
        continue;
      }
      if (!link) {
        if (values.name === null || values.name === undefined) {
          counts.skipped++;
          journal.log({
            direction: 'from_crm',
            object,
            recordKey: record.id,
            action: 'skipped',
            message: `Company skipped: ${object} ${record.id} in ${crmName} has no name`,
          });
          continue;
        }
        [local] = matchingCompanies(values, candidates, companyValues);
        const other = local
          ? claimed.get(local.id)
          : matchingCompanies(values, newInPage, (entry) => entry.values)[0]?.crmId;
        if (other !== undefined && other !== record.id) {
          counts.skipped++;
          journal.log({
            direction: 'from_crm',
            object,
            recordKey: label,
            action: 'duplicate_found',
            message: `Duplicate in ${crmName}: ${label} is on ${object} ${other} and ${record.id}; not merged`,
            details: { crmIds: [other, record.id] },
          });
          continue;
        }
        if (local?.deletedAt) {
          counts.skipped++;
          journal.log({
            direction: 'from_crm',
            object,
            recordKey: label,
            action: 'skipped',
            message: `Company skipped: ${label} was deleted in PenguinMails`,
          });
          continue;
        }
        if (local) claimed.set(local.id, record.id);
        else newInPage.push({ values, crmId: record.id });
      }
      const localSide = local
        ? await companyLocalSide(this.scope, local, this.failure(record, label))
        : { values: {}, modifiedAt: EPOCH };
      if (localSide === undefined) continue;
      const plan = planCompanyForRun(this.scope, {
        base: link?.synced,
        local: localSide,
        crm: { values, modifiedAt: record.modifiedAt },
      });
      items.push({ record, label, link, local, plan });
    }
    return items;
  }
}
