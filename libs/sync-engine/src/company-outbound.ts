import { paginate } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  type CrmRecord,
  type UpsertInput,
  type UpsertResult,
} from '@pm/integration-port';
import { CompanyDeletions } from './company-deletions';
import {
  companyFieldsToRead,
  crmCompanyValues,
  crmMatches,
  encodeCompany,
  companyChanged,
  hasCompanyFields,
  revertCompanyFields,
  type CompanyPlan,
} from './company-mapping';
import { LOCAL_COMPANY_OBJECT, type LocalCompany } from './company-ports';
import {
  companyLabel,
  companyLink,
  companyLocalSide,
  companyValues,
  lookupTerms,
  outboundFailure,
  planCompanyForRun,
  unlessFormulaFails,
  type CompanyRunScope,
} from './company-sync-scope';
import type { LinkSnapshot, LocalPosition, RetryItem } from './ports';
import { EPOCH } from './sync-run-scope';

interface OutboundCompany {
  company: LocalCompany;
  label: string;
  link?: LinkSnapshot;
  /** The CRM company found by domain or name for a first link. */
  matched?: CrmRecord;
  plan: CompanyPlan;
  failed?: boolean;
}

/**
 * PenguinMails → CRM for companies: the retry list, then local changes since the saved local cursor. Linked
 * companies are written to their records (a rename follows), deleted ones end their links by the connection's
 * rules, and unlinked ones are looked up by domain and name first: linked to the one record found, reported when
 * two hold it, and created only when none does. A create retried after a lost answer is looked up again before it
 * is sent (`CrmGateway.upsertCompanies`), so a company is never made twice.
 */
export class CompanyOutboundPass {
  private readonly deletions: CompanyDeletions;
  /** Companies linked for the first time in this run (their contacts are associated by the association pass). */
  readonly newlyLinked: LocalCompany[] = [];

  constructor(private readonly scope: CompanyRunScope) {
    this.deletions = new CompanyDeletions(scope);
  }

  async sync(): Promise<void> {
    const { run, companies, mapping } = this.scope;
    const { connection, journal, cursors } = run;
    const retries = await journal.retryList('to_crm', (item) => item.object === mapping.object);
    if (retries.length > 0) {
      await this.push(
        await companies.findByIds(connection.tenantId, [...new Set(retries.map((i) => i.recordId))]),
      );
      await journal.flush();
    }
    const state = await cursors.load(connection.id, LOCAL_COMPANY_OBJECT, 'to_crm');
    const saved = state.value;
    const start: LocalPosition | null = saved
      ? { updatedAt: new Date(Date.parse(saved.modifiedAt) - run.tuning.localOverlapMs).toISOString() }
      : null;
    const pageSize = run.tuning.localPageSize;
    const pages = paginate<{ companies: LocalCompany[]; nextPageToken?: string }>(
      async (token) => {
        const after = token === undefined ? start : (JSON.parse(token) as LocalPosition);
        const page = await companies.changedSince(connection.tenantId, after, pageSize);
        const last = page[page.length - 1];
        const next =
          last && page.length >= pageSize
            ? { updatedAt: last.updatedAt.toISOString(), id: last.id }
            : undefined;
        return { companies: page, nextPageToken: next && JSON.stringify(next) };
      },
      { signal: run.signal },
    );
    for await (const page of pages) {
      if (page.companies.length === 0) break;
      await this.push(page.companies);
      const last = page.companies[page.companies.length - 1];
      const position = { modifiedAt: last.updatedAt.toISOString(), lastId: last.id };
      if (!saved || Date.parse(position.modifiedAt) >= Date.parse(saved.modifiedAt)) {
        await cursors.save(connection.id, LOCAL_COMPANY_OBJECT, 'to_crm', position);
      }
      await journal.flush();
    }
    if (!state.initialSyncCompletedAt) {
      const latest = await cursors.load(connection.id, LOCAL_COMPANY_OBJECT, 'to_crm');
      await cursors.save(connection.id, LOCAL_COMPANY_OBJECT, 'to_crm', latest.value, {
        initialSyncCompleted: true,
      });
    }
  }

  private async push(batch: LocalCompany[]): Promise<void> {
    if (batch.length === 0) return;
    const { run, mapping } = this.scope;
    const links = (
      await run.links.findByLocalIds(
        run.connection.id,
        batch.map((company) => company.id),
        LOCAL_COMPANY_OBJECT,
      )
    ).filter((link) => link.crmObject === mapping.object);
    const linkByLocal = new Map(links.map((link) => [link.localId, link]));
    const items: OutboundCompany[] = [];
    const unlinked: LocalCompany[] = [];
    const deletions: { company: LocalCompany; link: LinkSnapshot }[] = [];
    for (const company of batch) {
      const link = linkByLocal.get(company.id);
      if (company.deletedAt) {
        if (link) deletions.push({ company, link });
      } else if (link) {
        const local = await companyLocalSide(this.scope, company);
        if (local === undefined) continue;
        const plan = planCompanyForRun(this.scope, { base: link.synced, local });
        items.push({ company, label: companyLabel(companyValues(company)), link, plan });
      } else unlinked.push(company);
    }
    await this.deletions.deletedLocally(deletions);
    items.push(...(await this.matchUnlinked(unlinked)));
    const results = await this.write(items);
    await this.record(items, results);
  }

  /** Unlinked companies, looked up in the CRM by domain and name: matched, refused as duplicates, or created. */
  private async matchUnlinked(unlinked: LocalCompany[]): Promise<OutboundCompany[]> {
    if (unlinked.length === 0) return [];
    const { run, mapping } = this.scope;
    const { connection, journal, crmName } = run;
    const object = mapping.object;
    const counts = journal.count('to_crm', object);
    const deletedInCrm = new Set(
      await run.links.findDeletedInCrmLocalIds(
        connection.id,
        unlinked.map((company) => company.id),
        LOCAL_COMPANY_OBJECT,
      ),
    );
    counts.skipped += unlinked.filter((company) => deletedInCrm.has(company.id)).length;
    const creatable = unlinked.filter((company) => !deletedInCrm.has(company.id));
    if (creatable.length === 0) return [];
    const found = await this.lookUp(creatable);
    if (found === undefined) return [];
    const owners = new Map(
      (
        await run.links.findByCrmIds(
          connection.id,
          object,
          found.map((record) => record.id),
        )
      ).map((link) => [link.crmId, link.localId]),
    );
    const items: OutboundCompany[] = [];
    for (const company of creatable) {
      const values = companyValues(company);
      const label = companyLabel(values);
      const matches = crmMatches(mapping, values, found);
      const owner = matches.length === 1 ? owners.get(matches[0].id) : undefined;
      if (matches.length > 1 || (owner !== undefined && owner !== company.id)) {
        counts.skipped++;
        const ids = matches.map((record) => record.id);
        journal.log({
          direction: 'to_crm',
          object,
          recordKey: label,
          action: 'duplicate_found',
          message:
            matches.length > 1
              ? `Duplicate in ${crmName}: ${label} is on ${ids.length} ${object} records (${ids.join(', ')}); not merged`
              : `Duplicate: ${label} matches ${object} ${ids[0]} in ${crmName}, which is linked to another company; not merged`,
          details: { crmIds: ids },
        });
        continue;
      }
      const [matched] = matches;
      const local = await companyLocalSide(this.scope, company);
      if (local === undefined) continue;
      const crm = await unlessFormulaFails(this.scope, outboundFailure(company), async () =>
        matched
          ? {
              values: await crmCompanyValues(mapping, matched.fields, undefined, run.formulaLimits),
              modifiedAt: matched.modifiedAt,
            }
          : { values: {}, modifiedAt: EPOCH },
      );
      if (crm === undefined) continue;
      if (matched) owners.set(matched.id, company.id);
      const plan = planCompanyForRun(this.scope, { local, crm });
      items.push({ company, label, matched, plan });
    }
    return items;
  }

  /**
   * The CRM companies with these companies' names or domains. A look-up the CRM refuses for its data (a name its
   * search will not take) fails these companies, logged with the CRM's message and retried next run, never the run.
   */
  private async lookUp(companies: LocalCompany[]): Promise<CrmRecord[] | undefined> {
    const { run, mapping } = this.scope;
    try {
      return await run.crm.findCompanies({
        object: mapping.object,
        fields: companyFieldsToRead(mapping),
        ...lookupTerms(companies.map(companyValues)),
      });
    } catch (error) {
      if (!(error instanceof CrmError) || error.code !== CrmErrorCode.VALIDATION_FAILED) throw error;
      run.journal.count('to_crm', mapping.object).errors += companies.length;
      const retryLater: RetryItem[] = companies.map((company) => {
        const label = companyLabel(companyValues(company));
        run.journal.log({
          direction: 'to_crm',
          object: mapping.object,
          recordKey: label,
          action: 'error',
          message: `Company not synced: ${label} → ${run.crmName}: ${error.message}`,
          details: { code: error.code, crmCode: error.crmCode },
        });
        return {
          direction: 'to_crm',
          object: mapping.object,
          recordId: company.id,
          recordKey: label,
          error: error.message,
        };
      });
      await run.journal.retryLater(retryLater);
      return undefined;
    }
  }

  private async write(items: OutboundCompany[]): Promise<Map<string, UpsertResult>> {
    const { run, mapping } = this.scope;
    const writes = items.filter((item) => hasCompanyFields(item.plan.toCrm));
    if (writes.length === 0) return new Map();
    const byKey = new Map(writes.map((item) => [item.company.id, item]));
    return run.crm.upsertCompanies(
      { object: mapping.object, fields: companyFieldsToRead(mapping) },
      writes.map(
        (item): UpsertInput => ({
          key: item.company.id,
          crmId: item.link?.crmId ?? item.matched?.id,
          fields: encodeCompany(mapping, item.plan.toCrm),
        }),
      ),
      (creates) => lookupTerms(creates.map((input) => companyValues(byKey.get(input.key)!.company))),
      (input, found) => {
        const [only, second] = crmMatches(mapping, companyValues(byKey.get(input.key)!.company), found);
        return second === undefined ? only : undefined;
      },
    );
  }

  /** Fills values a matched CRM company held (bi-directional first link), then counts, logs, links and retries. */
  private async record(items: OutboundCompany[], results: Map<string, UpsertResult>): Promise<void> {
    const { run, companies, mapping } = this.scope;
    const { journal, crmName } = run;
    const object = mapping.object;
    const counts = journal.count('to_crm', object);
    const fills = items.filter((item) => hasCompanyFields(item.plan.toLocal));
    const filled = new Map(
      (
        await companies.apply(
          run.connection.tenantId,
          fills.map((item) => ({
            key: item.company.id,
            companyId: item.company.id,
            values: item.plan.toLocal,
          })),
        )
      ).map((result) => [result.key, result]),
    );
    const retryLater: RetryItem[] = [];
    const links: LinkSnapshot[] = [];
    const succeeded: string[] = [];
    for (const item of items) {
      const result = results.get(item.company.id);
      const wrote = hasCompanyFields(item.plan.toCrm);
      if (wrote && !result?.ok) {
        const message = result && !result.ok ? result.error.message : 'no result returned';
        counts.errors++;
        retryLater.push({
          direction: 'to_crm',
          object,
          recordId: item.company.id,
          recordKey: item.label,
          error: message,
        });
        journal.log({
          direction: 'to_crm',
          object,
          recordKey: item.label,
          action: 'error',
          message: `Company not synced: ${item.label} → ${crmName}: ${message}`,
          details: result && !result.ok ? { code: result.error.code, crmCode: result.error.crmCode } : null,
        });
        if (!item.link) continue;
        revertCompanyFields(item.plan, item.plan.toCrm, item.link.synced);
      } else succeeded.push(item.company.id);
      const fill = filled.get(item.company.id);
      if (fill && !fill.ok) revertCompanyFields(item.plan, item.plan.toLocal, item.link?.synced);
      counts.conflicts += item.plan.conflicts.length;
      if (wrote && result?.ok) {
        if (result.created) counts.created++;
        else counts.updated++;
        journal.log({
          direction: 'to_crm',
          object,
          recordKey: item.label,
          action: result.created ? 'created' : 'updated',
          message: `Company synced: ${item.label} → ${crmName}`,
          details: { crmId: result.crmId, fields: item.plan.toCrm },
        });
      } else if (item.link && !wrote) counts.skipped++;
      const crmId = result?.ok ? result.crmId : (item.link?.crmId ?? item.matched?.id);
      if (crmId === undefined || (item.link && !companyChanged(item.plan))) continue;
      if (!item.link) this.newlyLinked.push(fill?.ok ? fill.company : item.company);
      const seen = item.link?.crmModifiedAt ?? (item.matched ? new Date(item.matched.modifiedAt) : null);
      links.push(
        companyLink(this.scope, {
          link: item.link,
          localId: item.company.id,
          crmId,
          plan: item.plan,
          localUpdatedAt: fill?.ok ? fill.company.updatedAt : item.company.updatedAt,
          crmModifiedAt: result?.ok && result.modifiedAt ? new Date(result.modifiedAt) : seen,
        }),
      );
    }
    if (links.length > 0) await run.links.save(run.connection.id, links);
    await journal.retryLater(retryLater);
    await journal.succeeded('to_crm', object, succeeded);
  }
}
