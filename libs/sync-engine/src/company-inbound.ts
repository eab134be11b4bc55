import { cursorAfter } from '@pm/connector-kit';
import type { ChangePage, CrmRecord, DeletedRecord, SyncCursor } from '@pm/integration-port';
import { CompanyDeletions } from './company-deletions';
import { CompanyInboundMatcher, type InboundCompany } from './company-inbound-matching';
import {
  companyFieldsToRead,
  encodeCompany,
  companyChanged,
  hasCompanyFields,
  revertCompanyFields,
} from './company-mapping';
import type { LocalCompany, LocalCompanyChange } from './company-ports';
import { companyLink, type CompanyRunScope } from './company-sync-scope';
import type { LinkSnapshot, RetryItem } from './ports';

/**
 * CRM → PenguinMails for the company object: the retry list, then changes since the saved cursor, page by page
 * (the cursor passes a page only once it is applied). Each CRM company is matched to a local one by its link, else
 * by domain or name, and planned three ways; values that won locally go back with the page.
 */
export class CompanyInboundPass {
  private readonly deletions: CompanyDeletions;
  private readonly matcher: CompanyInboundMatcher;

  constructor(private readonly scope: CompanyRunScope) {
    this.deletions = new CompanyDeletions(scope);
    this.matcher = new CompanyInboundMatcher(scope);
  }

  async sync(): Promise<void> {
    const { run, mapping } = this.scope;
    const { connection, journal, cursors } = run;
    const object = mapping.object;
    const retries = await journal.retryList(
      'from_crm',
      (item) => item.object === object && Boolean(item.payload),
    );
    if (retries.length > 0) {
      await this.applyPage({ records: retries.map((item) => item.payload as CrmRecord), deleted: [] });
      await journal.flush();
    }
    const state = await cursors.load(connection.id, object, 'from_crm');
    let cursor = state.value;
    const readStartedAt = run.now().getTime();
    const pages = run.crm.changePages(
      {
        object,
        since: state.value,
        fields: companyFieldsToRead(mapping),
        pageSize: run.tuning.readPageSize ?? run.crm.capabilities.maxReadPage,
      },
      // A company mapping reads no associated record's values.
      [],
    );
    for await (const page of pages) {
      // The contact pass that follows takes its company values from these (those pushed back are forgotten).
      run.crm.rememberRead(object, page.records);
      await this.applyPage(page);
      const deleted = page.deleted.map((record) => ({ id: record.id, modifiedAt: record.deletedAt }));
      cursor = cursorAfter([...page.records, ...deleted], cursor);
      await cursors.save(connection.id, object, 'from_crm', this.closed(cursor, readStartedAt));
      await journal.flush();
    }
    if (!state.initialSyncCompletedAt) {
      await cursors.save(connection.id, object, 'from_crm', this.closed(cursor, readStartedAt), {
        initialSyncCompleted: true,
      });
    }
  }

  /**
   * Companies a change hint named, read by id and applied as a page of the scheduled pass (matching, conflict
   * policy, link snapshots, local winners pushed back); one the CRM no longer returns is a deletion by the
   * connection's rules. No cursor moves. Returns the ids the CRM still holds.
   */
  async syncNamed(crmIds: readonly string[]): Promise<Set<string>> {
    const { run, mapping } = this.scope;
    const ids = [...new Set(crmIds)];
    const found = await run.crm.getRecords({
      object: mapping.object,
      ids,
      fields: companyFieldsToRead(mapping),
    });
    const present = new Set(found.map((record) => record.id));
    const deletedAt = run.now().toISOString();
    const gone: DeletedRecord[] = ids
      .filter((id) => !present.has(id))
      .map((id) => ({ id, object: mapping.object, deletedAt }));
    await this.applyPage({ records: found, deleted: gone });
    await run.journal.flush();
    return present;
  }

  /** Without its id while the cursor's instant may still gain records (as for contacts: `openInstantMs`). */
  private closed(cursor: SyncCursor | null, readStartedAt: number): SyncCursor | null {
    if (cursor === null || cursor.lastId === undefined) return cursor;
    return Date.parse(cursor.modifiedAt) > readStartedAt - this.scope.run.tuning.openInstantMs
      ? { modifiedAt: cursor.modifiedAt }
      : cursor;
  }

  private async applyPage(page: Pick<ChangePage, 'records' | 'deleted'>): Promise<void> {
    const { run, mapping } = this.scope;
    const object = mapping.object;
    const items = await this.matcher.match(page.records);
    const retryLater: RetryItem[] = [];
    await this.writeLocally(items, retryLater);
    await this.pushBack(items, retryLater);
    const links: LinkSnapshot[] = [];
    const counts = run.journal.count('from_crm', object);
    for (const item of items) {
      if (item.failed || !item.local) continue;
      counts.conflicts += item.plan.conflicts.length;
      if (!companyChanged(item.plan) && item.link) {
        counts.skipped++;
        if (item.link.crmModifiedAt?.toISOString() === item.record.modifiedAt) continue;
      }
      links.push(
        companyLink(this.scope, {
          link: item.link,
          localId: item.local.id,
          crmId: item.record.id,
          plan: item.plan,
          localUpdatedAt: item.local.updatedAt,
          crmModifiedAt: new Date(item.record.modifiedAt),
        }),
      );
    }
    if (links.length > 0) await run.links.save(run.connection.id, links);
    await this.deletions.deletedInCrm(page.deleted);
    await run.journal.retryLater(retryLater);
    const succeeded = items.filter((item) => !item.failed).map((item) => item.record.id);
    await run.journal.succeeded('from_crm', object, succeeded);
  }

  private async writeLocally(items: InboundCompany[], retryLater: RetryItem[]): Promise<void> {
    const { run, companies, mapping } = this.scope;
    const object = mapping.object;
    const counts = run.journal.count('from_crm', object);
    const changes: LocalCompanyChange[] = items
      .filter((item) => !item.local || hasCompanyFields(item.plan.toLocal))
      .map((item) => ({ key: item.record.id, companyId: item.local?.id, values: item.plan.toLocal }));
    if (changes.length === 0) return;
    const byKey = new Map(items.map((item) => [item.record.id, item]));
    for (const result of await companies.apply(run.connection.tenantId, changes)) {
      const item = byKey.get(result.key) as InboundCompany;
      if (!result.ok) {
        item.failed = true;
        counts.errors++;
        retryLater.push({
          direction: 'from_crm',
          object,
          recordId: item.record.id,
          recordKey: item.label,
          error: result.message,
          payload: item.record,
        });
        run.journal.log({
          direction: 'from_crm',
          object,
          recordKey: item.label,
          action: 'error',
          message: `Company not synced: ${item.label} ← ${run.crmName}: ${result.message}`,
        });
        continue;
      }
      const created = result.created || !item.local;
      item.local = result.company;
      if (created) counts.created++;
      else counts.updated++;
      run.journal.log({
        direction: 'from_crm',
        object,
        recordKey: item.label,
        action: created ? 'created' : 'updated',
        message: `Company synced: ${item.label} ← ${run.crmName}`,
        details: { crmId: item.record.id, fields: item.plan.toLocal },
      });
    }
  }

  /** Local values that won a conflict (or moved only locally) go to the CRM with the page. */
  private async pushBack(items: InboundCompany[], retryLater: RetryItem[]): Promise<void> {
    const { run, mapping } = this.scope;
    const object = mapping.object;
    const pushes = items.filter((item) => !item.failed && item.local && hasCompanyFields(item.plan.toCrm));
    if (pushes.length === 0) return;
    const results = await run.crm.upsert(
      object,
      pushes.map((item) => ({
        key: item.record.id,
        crmId: item.record.id,
        fields: encodeCompany(mapping, item.plan.toCrm),
      })),
    );
    const counts = run.journal.count('to_crm', object);
    for (const item of pushes) {
      const result = results.get(item.record.id);
      if (result?.ok) {
        counts.updated++;
        continue;
      }
      const message = result && !result.ok ? result.error.message : 'no result returned';
      revertCompanyFields(item.plan, item.plan.toCrm, item.link?.synced);
      counts.errors++;
      retryLater.push({
        direction: 'to_crm',
        object,
        recordId: (item.local as LocalCompany).id,
        recordKey: item.label,
        error: message,
      });
      run.journal.log({
        direction: 'to_crm',
        object,
        recordKey: item.label,
        action: 'error',
        message: `Company not synced: ${item.label} → ${run.crmName}: ${message}`,
      });
    }
  }
}
