import { cursorAfter } from '@pm/connector-kit';
import type { ChangePage, CrmRecord, SyncCursor, UpsertResult } from '@pm/integration-port';
import { Deletions } from './deletions';
import { associatedReads, crmFieldsToRead, crmRecordEmail, type ObjectMapping } from './field-mapping';
import { InboundMatcher, type InboundItem } from './inbound-matching';
import { InboundPushBack, type HeldPushes } from './inbound-push-back';
import { readAhead } from './page-read-ahead';
import { readPosition, RECOMPARE_ALL, UnchangedRecords } from './unchanged-records';
import { crmModifiedAfter, linkSnapshot } from './link-snapshots';
import type { LinkSnapshot, LocalContactChange, RetryItem } from './ports';
import { hasChanges, hasFields } from './record-planner';
import { conflictLines, syncedLine } from './sync-log-messages';
import type { SyncRunScope } from './sync-run-scope';

/** Most e-mails a complete first read keeps for the outbound pass (about 8 MB); a larger CRM is looked up. */
const COMPLETE_READ_EMAILS_MAX = 100_000;

/** Most records applied as one page when pages read ahead are joined (see `readAhead`). */
const APPLIED_PAGE_MAX = 2_000;

/**
 * CRM → PenguinMails for one object: first the records left on the retry list, then the changes since the saved
 * cursor, page by page. The cursor passes a page only once the page is applied, so a run stopped anywhere loses
 * nothing. Local values that won a conflict (or changed only locally) go back to the CRM in full batches: they are
 * held across pages (see `InboundPushBack`), and the cursor waits for them.
 */
export class InboundPass {
  private readonly matcher: InboundMatcher;
  private readonly deletions: Deletions;
  private readonly pushBack: InboundPushBack;
  /** Pushes read but not yet written; their links and the cursor past their page wait for the write. */
  private held: HeldPushes[] = [];
  private readonly heldIds = new Set<string>();

  constructor(private readonly run: SyncRunScope) {
    this.matcher = new InboundMatcher(run);
    this.deletions = new Deletions(run);
    this.pushBack = new InboundPushBack(run);
  }

  /**
   * Applies records read outside the change read (a reconcile's re-read) exactly as a page of it: the same
   * matching, conflict policy, push-back and links. No cursor moves.
   */
  async applyRecords(object: string, records: CrmRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.applyPage(object, this.run.mapping(object), { records, deleted: [] });
    await this.run.journal.flush();
  }

  async sync(object: string): Promise<void> {
    const { connection, journal, cursors } = this.run;
    const mapping = this.run.mapping(object);
    const retryItems = await journal.retryList(
      'from_crm',
      (item) => item.object === object && Boolean(item.payload),
    );
    if (retryItems.length > 0) {
      const records = retryItems.map((item) => item.payload as CrmRecord);
      await this.applyPage(object, mapping, { records, deleted: [] });
      await journal.flush();
    }
    const state = await cursors.load(connection.id, object, 'from_crm');
    const { since, recompare } = readPosition(state.value);
    let cursor = since;
    const readStartedAt = this.run.now().getTime();
    // A first read sees every record: their e-mails spare the outbound pass its look-ups (see `completeReads`).
    // Past COMPLETE_READ_EMAILS_MAX the set is dropped (the look-ups are made) so memory stays flat with size.
    let emailsRead = since === null ? new Set<string>() : undefined;
    const unchanged = recompare ? undefined : new UnchangedRecords(this.run, object);
    const read = this.run.crm.changePages(
      {
        object,
        since,
        fields: crmFieldsToRead(mapping),
        pageSize: this.run.tuning.readPageSize ?? this.run.crm.capabilities.maxReadPage,
      },
      // Only the associations the mapping reads values from.
      associatedReads(mapping).map((read) => read.object),
      { needing: unchanged && ((records) => unchanged.changed(records)), mapping },
    );
    // Small CRM pages read while one is applied are applied together: their fixed costs are paid once.
    const pageSize = this.run.tuning.readPageSize ?? this.run.crm.capabilities.maxReadPage;
    const pages = readAhead(read, Math.max(pageSize, APPLIED_PAGE_MAX), this.run.signal);
    let savedThrough = since;
    // A re-comparison's cursors keep saying so until its read is done: a resumed one still compares every record.
    // The page's log lines are taken as the call is made (before the next page adds its own).
    const saveCursor = async (readDone = false) => {
      const through = cursor;
      const closed = this.closedCursor(through, readStartedAt);
      const value =
        recompare && !readDone ? { ...(closed ?? RECOMPARE_ALL), recompare: true as const } : closed;
      const logged = journal.flush();
      await cursors.save(connection.id, object, 'from_crm', value);
      savedThrough = through;
      await logged;
    };
    // An applied page's cursor (and log lines) are saved while the next page is read and applied: the cursor still
    // passes a page only once its writes and links are saved, and each save waits for the one before, so it only
    // moves forward. A failure stops the run after the save in flight ends.
    let saving: Promise<void> | undefined;
    const saveInBackground = async () => {
      await saving;
      saving = saveCursor();
      // Awaited before the next save or below; this only keeps a failure meanwhile from going unhandled.
      saving.catch(() => undefined);
    };
    try {
      for await (const page of pages) {
        for (const record of emailsRead ? page.records : []) {
          const email = crmRecordEmail(mapping, record.fields);
          if (email !== null) emailsRead?.add(email);
        }
        if (emailsRead && emailsRead.size > COMPLETE_READ_EMAILS_MAX) emailsRead = undefined;
        const records = unchanged ? await unchanged.changed(page.records) : page.records;
        unchanged?.forget(page.records);
        journal.count('from_crm', object).skipped += page.records.length - records.length;
        await this.applyHolding(object, mapping, { records, deleted: page.deleted });
        const deleted = page.deleted.map((record) => ({ id: record.id, modifiedAt: record.deletedAt }));
        cursor = cursorAfter([...page.records, ...deleted], cursor);
        if (this.heldCount() >= this.pushBack.batchSize) await this.flushPushes();
        // The page is applied (its pushes written): only now may the cursor pass it.
        if (this.heldCount() === 0) await saveInBackground();
      }
    } catch (error) {
      // The page in flight failed (or the run was stopped): the previous page's cursor is still saved first.
      await saving?.catch(() => undefined);
      throw error;
    }
    await saving;
    await this.flushPushes();
    if (cursor !== savedThrough || recompare) await saveCursor(true);
    if (!state.initialSyncCompletedAt) {
      await cursors.save(connection.id, object, 'from_crm', this.closedCursor(cursor, readStartedAt), {
        initialSyncCompleted: true,
      });
    }
    if (emailsRead) (this.run.completeReads ??= new Map()).set(object, emailsRead);
  }

  /**
   * The cursor to save: without its id while its instant may still gain records (see `openInstantMs`), and with
   * when this read started (`readAt`), so the next read looks back only as far as this one could have missed.
   */
  private closedCursor(cursor: SyncCursor | null, readStartedAt: number): SyncCursor | null {
    if (cursor === null) return cursor;
    const readAt = new Date(readStartedAt).toISOString();
    if (cursor.lastId === undefined) return { modifiedAt: cursor.modifiedAt, readAt };
    return Date.parse(cursor.modifiedAt) > readStartedAt - this.run.tuning.openInstantMs
      ? { modifiedAt: cursor.modifiedAt, readAt }
      : { modifiedAt: cursor.modifiedAt, lastId: cursor.lastId, readAt };
  }

  /** Applies records as read (and records the CRM reports gone); the targeted sync enters here too. */
  async applyPage(
    object: string,
    mapping: ObjectMapping,
    page: Pick<ChangePage, 'records' | 'deleted'>,
  ): Promise<void> {
    await this.applyHolding(object, mapping, page);
    await this.flushPushes();
  }

  /**
   * Applies a page except its pushes to the CRM, which are held (`flushPushes` writes them). Links last: a crash
   * before they are saved leaves the old links behind, and the re-read page converges without writes.
   */
  private async applyHolding(
    object: string,
    mapping: ObjectMapping,
    page: Pick<ChangePage, 'records' | 'deleted'>,
  ): Promise<void> {
    // A record read again while its push is held (edited or deleted meanwhile): the held write goes first, so the new
    // read is planned against the link that write leaves, and one batch never names a record twice.
    const again = [...page.records, ...page.deleted].some((record) =>
      this.heldIds.has(`${object}:${record.id}`),
    );
    if (again) await this.flushPushes();
    const items = await this.matcher.match(object, mapping, page.records);
    const retryLater: RetryItem[] = [];
    await this.writeLocally(object, items, retryLater);
    this.tally(object, items);
    const pushes = items.filter((item) => !item.failed && hasFields(item.plan.toCrm));
    const settled = pushes.length === 0 ? items : items.filter((item) => !pushes.includes(item));
    await this.saveLinks(object, settled, new Map());
    await this.deletions.deletedInCrm(object, page.deleted);
    await this.run.journal.retryLater(retryLater);
    const succeeded = items.filter((item) => !item.failed).map((item) => item.record.id);
    await this.run.journal.succeeded('from_crm', object, succeeded);
    if (pushes.length === 0) return;
    this.held.push({ object, mapping, items: pushes });
    for (const item of pushes) this.heldIds.add(`${object}:${item.record.id}`);
  }

  private heldCount(): number {
    return this.heldIds.size;
  }

  /** Writes the held pushes, one object at a time, then their links. */
  private async flushPushes(): Promise<void> {
    const byObject = new Map<string, HeldPushes>();
    for (const held of this.held) {
      const same = byObject.get(held.object);
      if (same) same.items.push(...held.items);
      else byObject.set(held.object, { ...held, items: [...held.items] });
    }
    this.held = [];
    this.heldIds.clear();
    for (const held of byObject.values()) {
      const retryLater: RetryItem[] = [];
      const pushed = await this.pushBack.write(held, retryLater);
      await this.saveLinks(held.object, held.items, pushed);
      await this.run.journal.retryLater(retryLater);
    }
  }

  /** Local writes (through the contacts service), one result per contact; a failed one is retried next run. */
  private async writeLocally(object: string, items: InboundItem[], retryLater: RetryItem[]): Promise<void> {
    const { journal, crmName } = this.run;
    const counts = journal.count('from_crm', object);
    const changes: LocalContactChange[] = items
      .filter((item) => !item.local || hasFields(item.plan.toLocal))
      .map((item) => ({
        key: item.record.id,
        contactId: item.local?.id,
        email: item.email,
        values: item.plan.toLocal,
      }));
    if (changes.length === 0) return;
    const { id: connectionId, provider, tenantId } = this.run.connection;
    const results = await this.run.locals.apply(tenantId, changes, { connectionId, provider });
    const byKey = new Map(items.map((item) => [item.record.id, item]));
    for (const result of results) {
      const item = byKey.get(result.key) as InboundItem;
      if (!result.ok) {
        item.failed = true;
        counts.errors++;
        retryLater.push({
          direction: 'from_crm',
          object,
          recordId: item.record.id,
          recordKey: item.email,
          error: result.message,
          payload: item.record,
        });
        journal.log({
          direction: 'from_crm',
          object,
          recordKey: item.email,
          action: 'error',
          message: `Contact not synced: ${item.email} ← ${crmName}: ${result.message}`,
        });
        continue;
      }
      const created = result.created || !item.local;
      item.local = result.contact;
      if (created) counts.created++;
      else counts.updated++;
      journal.log(
        syncedLine('from_crm', object, item.email, crmName, {
          created,
          crmId: item.record.id,
          fields: item.plan.toLocal,
        }),
      );
    }
  }

  /** Conflicts settled, and linked records that had nothing to do. */
  private tally(object: string, items: InboundItem[]): void {
    const counts = this.run.journal.count('from_crm', object);
    for (const item of items) {
      if (item.failed) continue;
      counts.conflicts += item.plan.conflicts.length;
      for (const line of conflictLines('from_crm', object, item.email, item.plan.conflicts)) {
        this.run.journal.log(line);
      }
      if (!hasChanges(item.plan) && item.local && item.link) counts.skipped++;
    }
  }

  private async saveLinks(
    object: string,
    items: InboundItem[],
    pushed: Map<string, UpsertResult>,
  ): Promise<void> {
    const links: LinkSnapshot[] = [];
    for (const item of items) {
      if (item.failed || !item.local) continue;
      const unchanged = item.link && !hasChanges(item.plan);
      if (unchanged && item.link?.crmModifiedAt?.toISOString() === item.record.modifiedAt) continue;
      const written = pushed.get(item.record.id);
      links.push(
        linkSnapshot({
          link: item.link,
          localId: item.local.id,
          crmObject: object,
          crmId: item.record.id,
          plan: item.plan,
          localUpdatedAt: item.local.updatedAt,
          crmModifiedAt: crmModifiedAfter(
            written?.ok ? written : undefined,
            new Date(item.record.modifiedAt),
          ),
          at: this.run.now(),
        }),
      );
    }
    if (links.length > 0) await this.run.links.save(this.run.connection.id, links);
  }
}
