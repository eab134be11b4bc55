import type { DeletedRecord, DeleteResult } from '@pm/integration-port';
import type { LocalCompany } from './company-ports';
import { companyLabel, companyValues, type CompanyRunScope } from './company-sync-scope';
import type { LinkSnapshot, RetryItem } from './ports';

/**
 * Company deletions, both ways, by the contacts' rules: a company deleted on one side ends its link; with
 * `propagateDeletes` the other side's record is deleted too (a CRM refusal is logged with its message and retried
 * next run, the link kept), and without it the other side keeps its record and the log says so. A company deleted
 * in PenguinMails that contacts still name is never deleted in the CRM (only unlinked): a CRM may delete an
 * account's contacts with it.
 */
export class CompanyDeletions {
  constructor(private readonly scope: CompanyRunScope) {}

  /** Companies the CRM reported deleted. */
  async deletedInCrm(deleted: readonly DeletedRecord[]): Promise<void> {
    if (deleted.length === 0) return;
    const { run, companies, mapping } = this.scope;
    const { connection, journal } = run;
    const object = mapping.object;
    const links = await run.links.findByCrmIds(
      connection.id,
      object,
      deleted.map((record) => record.id),
    );
    if (links.length === 0) return;
    const locals = new Map(
      (
        await companies.findByIds(
          connection.tenantId,
          links.map((link) => link.localId),
        )
      ).map((company) => [company.id, company]),
    );
    const counts = journal.count('from_crm', object);
    const propagate = connection.settings.propagateDeletes && connection.settings.direction !== 'to_crm';
    for (const link of links) {
      const local = locals.get(link.localId);
      const key = local ? companyLabel(companyValues(local)) : link.crmId;
      await run.links.unlink(connection.id, object, link.crmId, 'deleted_in_crm', run.now());
      counts.deleted++;
      if (propagate && local && !local.deletedAt) await companies.markDeleted(connection.tenantId, local.id);
      journal.log({
        direction: 'from_crm',
        object,
        recordKey: key,
        action: propagate ? 'deleted' : 'unlinked',
        message: propagate
          ? `Company deleted: ${key} ← ${run.crmName}`
          : `Company unlinked: ${key} was deleted in ${run.crmName}; kept in PenguinMails`,
        details: { crmId: link.crmId },
      });
    }
  }

  /** Companies deleted in PenguinMails, each with its active link. */
  async deletedLocally(deletions: readonly { company: LocalCompany; link: LinkSnapshot }[]): Promise<void> {
    if (deletions.length === 0) return;
    const { run, mapping } = this.scope;
    const { connection, journal } = run;
    const object = mapping.object;
    // A CRM company that contacts still belong to is kept (only unlinked): deleting it would take them along in
    // a CRM that deletes an account's contacts with it (Salesforce), or leave them without a company.
    const kept = new Map<string, number>();
    if (connection.settings.propagateDeletes) {
      for (const { company } of deletions) {
        const members = await this.scope.companies.contactIdsWithCompanies(connection.tenantId, [
          company.name,
        ]);
        if (members.length > 0) kept.set(company.id, members.length);
      }
    }
    const toDelete = connection.settings.propagateDeletes
      ? deletions.filter(({ company }) => !kept.has(company.id))
      : [];
    const results =
      toDelete.length > 0
        ? await run.crm.deleteRecords(object, [...new Set(toDelete.map(({ link }) => link.crmId))])
        : new Map<string, DeleteResult>();
    const counts = journal.count('to_crm', object);
    const retryLater: RetryItem[] = [];
    const done: string[] = [];
    for (const { company, link } of deletions) {
      const key = companyLabel(companyValues(company));
      const members = kept.get(company.id);
      const propagate = connection.settings.propagateDeletes && members === undefined;
      const result = results.get(link.crmId);
      if (propagate && !result?.ok) {
        const error = result && !result.ok ? result.error : undefined;
        const message = error?.message ?? 'no result returned';
        counts.errors++;
        retryLater.push({
          direction: 'to_crm',
          object,
          recordId: company.id,
          recordKey: key,
          error: message,
        });
        journal.log({
          direction: 'to_crm',
          object,
          recordKey: key,
          action: 'error',
          message: `Company not deleted: ${key} → ${run.crmName}: ${message}`,
          details: { crmId: link.crmId, code: error?.code, crmCode: error?.crmCode },
        });
        continue;
      }
      await run.links.unlink(connection.id, object, link.crmId, 'deleted_in_penguinmails', run.now());
      counts.deleted++;
      done.push(company.id);
      journal.log({
        direction: 'to_crm',
        object,
        recordKey: key,
        action: propagate ? 'deleted' : 'unlinked',
        message: propagate
          ? `Company deleted: ${key} → ${run.crmName}`
          : `Company unlinked: ${key} was deleted in PenguinMails; kept in ${run.crmName}` +
            (members === undefined ? '' : ` because ${members} contact(s) still belong to it`),
        details: {
          crmId: link.crmId,
          propagateDeletes: connection.settings.propagateDeletes,
          contacts: members,
        },
      });
    }
    await journal.retryLater(retryLater);
    await journal.succeeded('to_crm', object, done);
  }
}
