import type { SyncCounts } from '@pm/domain/model';
import type {
  CursorDirection,
  RetryItem,
  RetryStore,
  StoredRetryItem,
  SyncConnection,
  SyncLogLine,
  SyncLogSink,
} from './ports';
import { SyncCountsBuilder } from './sync-counts';

/**
 * What a run reports: its counts per direction and object, its log lines (written out after each page, so a
 * crash loses at most the lines of the page it was on), and the retry list (records that failed, tried again next
 * run, and taken off once they succeed).
 */
export class RunJournal {
  readonly counts = new SyncCountsBuilder();
  private readonly pendingLog: SyncLogLine[] = [];
  /** Records on the retry list at the start of the run ("direction|object|recordId"), cleared once they succeed. */
  private readonly pendingRetries = new Set<string>();

  constructor(
    private readonly connection: SyncConnection,
    /** Null for work outside a sync run (an immediate push): its lines belong to the connection only. */
    private readonly runId: string | null,
    private readonly sink: SyncLogSink,
    private readonly retries: RetryStore,
  ) {}

  count(direction: CursorDirection, object: string): SyncCounts {
    return this.counts.for(direction, object);
  }

  log(line: SyncLogLine): void {
    this.pendingLog.push(line);
  }

  async flush(): Promise<void> {
    if (this.pendingLog.length === 0) return;
    await this.sink.write(this.connection, this.runId, this.pendingLog.splice(0));
  }

  /** The records left to retry in `direction` (those `keep` takes), remembered so success takes them off the list. */
  async retryList(
    direction: CursorDirection,
    keep: (item: StoredRetryItem) => boolean = () => true,
  ): Promise<StoredRetryItem[]> {
    const items = (await this.retries.list(this.connection.id, direction)).filter(keep);
    for (const item of items) this.pendingRetries.add(`${direction}|${item.object}|${item.recordId}`);
    return items;
  }

  /** Puts records that failed on the retry list (or bumps their attempts). */
  async retryLater(items: RetryItem[]): Promise<void> {
    if (items.length > 0) await this.retries.record(this.connection.id, items);
  }

  /**
   * A record whose mapped values could not be computed (a formula threw or ran too long): counted as an error,
   * logged with the formula's message and put on the retry list; the rest of the page goes on.
   */
  async mappingFailed(
    item: RetryItem,
    crmName: string,
    subject: 'Contact' | 'Company' = 'Contact',
  ): Promise<void> {
    this.count(item.direction, item.object).errors++;
    const arrow = item.direction === 'to_crm' ? '→' : '←';
    this.log({
      direction: item.direction,
      object: item.object,
      recordKey: item.recordKey,
      action: 'error',
      message: `${subject} not synced: ${item.recordKey ?? item.recordId} ${arrow} ${crmName}: ${item.error}`,
    });
    await this.retryLater([item]);
  }

  /** Takes records that succeeded off the retry list; nothing to do (and no query) when none was on it. */
  async succeeded(direction: CursorDirection, object: string, recordIds: readonly string[]): Promise<void> {
    const cleared = recordIds.filter((id) => this.pendingRetries.delete(`${direction}|${object}|${id}`));
    if (cleared.length > 0) await this.retries.clear(this.connection.id, direction, object, cleared);
  }
}
