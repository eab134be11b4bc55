import { paginate } from '@pm/connector-kit';
import type { SyncCursor } from '@pm/integration-port';
import { OutboundBatch } from './outbound-batch';
import type { LocalContact, LocalPosition } from './ports';
import { LOCAL_CONTACT_OBJECT, type SyncRunScope } from './sync-run-scope';

/** One page of local changes; the next page's token is the keyset position after its last contact. */
interface LocalChangePage {
  contacts: LocalContact[];
  nextPageToken?: string;
}

/**
 * PenguinMails → CRM: first the contacts left on the retry list, then local changes since the saved local cursor,
 * a page at a time. The cursor restarts a little before where it stopped (`localOverlapMs`), never moves back,
 * and passes a page only once the page is written.
 */
export class OutboundPass {
  private readonly batch: OutboundBatch;

  constructor(private readonly run: SyncRunScope) {
    this.batch = new OutboundBatch(run);
  }

  async sync(objects: string[]): Promise<void> {
    const { connection, journal, cursors } = this.run;
    // Only the contact objects' own retries: company writes and associations keep theirs on the same list.
    const retryItems = await journal.retryList('to_crm', (item) => objects.includes(item.object));
    if (retryItems.length > 0) {
      const ids = [...new Set(retryItems.map((item) => item.recordId))];
      await this.batch.push(objects, await this.run.locals.findByIds(connection.tenantId, ids));
      await journal.flush();
    }
    const state = await cursors.load(connection.id, LOCAL_CONTACT_OBJECT, 'to_crm');
    const saved = state.value;
    const start: LocalPosition | null = saved
      ? { updatedAt: new Date(Date.parse(saved.modifiedAt) - this.run.tuning.localOverlapMs).toISOString() }
      : null;
    // A written page's log lines, then its cursor, are saved while the next page is read and written: the cursor
    // still passes a page only once its CRM writes and links are saved, and each save waits for the one before, so
    // the cursor only moves forward. Links are saved before the next page starts, since its matching reads them.
    let saving: Promise<void> | undefined;
    try {
      for await (const { contacts } of this.localChanges(start)) {
        if (contacts.length === 0) break;
        await this.batch.push(objects, contacts);
        const last = contacts[contacts.length - 1];
        const position = { modifiedAt: last.updatedAt.toISOString(), lastId: last.id };
        // Never move the cursor back (the overlap re-reads contacts before it).
        const moves = !saved || Date.parse(position.modifiedAt) >= Date.parse(saved.modifiedAt);
        await saving;
        saving = this.pageDone(moves ? position : undefined);
        // Awaited before the next save or below; this only keeps a failure meanwhile from going unhandled.
        saving.catch(() => undefined);
      }
    } catch (error) {
      // The page in flight failed (or the run was stopped): the previous page's cursor is still saved first.
      await saving?.catch(() => undefined);
      throw error;
    }
    await saving;
    if (!state.initialSyncCompletedAt) {
      const latest = await cursors.load(connection.id, LOCAL_CONTACT_OBJECT, 'to_crm');
      await cursors.save(connection.id, LOCAL_CONTACT_OBJECT, 'to_crm', latest.value, {
        initialSyncCompleted: true,
      });
    }
  }

  /** A written page's log lines, then (unless it would move back) the cursor past it. */
  private async pageDone(position: SyncCursor | undefined): Promise<void> {
    await this.run.journal.flush();
    if (position) {
      await this.run.cursors.save(this.run.connection.id, LOCAL_CONTACT_OBJECT, 'to_crm', position);
    }
  }

  /**
   * Local changes after `start`, through the one paginator (a stop request ends the read between pages). The next
   * page is read while the current one is written (`prefetch`): its keyset position is known from the page alone,
   * and contacts the current page changes locally (values filled from the CRM) move past the read and come back
   * later, as they would without it.
   */
  private localChanges(start: LocalPosition | null): AsyncGenerator<LocalChangePage, void, undefined> {
    // Whole write batches per page: 500 contacts at Salesforce's 200 a request would be written 200 + 200 + 100.
    const batch = Math.max(1, this.run.crm.capabilities.maxWriteBatch);
    const pageSize = Math.ceil(this.run.tuning.localPageSize / batch) * batch;
    return paginate<LocalChangePage>(
      async (token) => {
        const after = token === undefined ? start : (JSON.parse(token) as LocalPosition);
        const contacts = await this.run.locals.changedSince(this.run.connection.tenantId, after, pageSize);
        const last = contacts[contacts.length - 1];
        const full = last !== undefined && contacts.length >= pageSize;
        const next: LocalPosition | undefined = full
          ? { updatedAt: last.updatedAt.toISOString(), id: last.id }
          : undefined;
        return { contacts, nextPageToken: next && JSON.stringify(next) };
      },
      { prefetch: true, signal: this.run.signal },
    );
  }
}
