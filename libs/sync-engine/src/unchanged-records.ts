import type { CrmRecord, SyncCursor } from '@pm/integration-port';
import type { SyncRunScope } from './sync-run-scope';

/**
 * Records an incremental read returns that the CRM has not changed since they last synced: the link holds the very
 * modification time the record shows (the previous run's own writes read back, a re-read of the cursor's overlap).
 * Nothing in them is new to apply, so they are not planned and their associations are not read; local changes to
 * them are the outbound pass's, as for any linked contact. A full read (first sync, a mapping change's
 * re-comparison) plans every record.
 *
 * Only a time with sub-second digits can tell: a CRM that stamps whole seconds gives a write and an edit made in
 * the same second one time, so such records are always planned (as is one time in a thousand of the others).
 */
export class UnchangedRecords {
  /** By `id|modifiedAt`: whether that version of the record is the one last synced. */
  private readonly known = new Map<string, boolean>();

  constructor(
    private readonly run: SyncRunScope,
    private readonly object: string,
  ) {}

  /** The records not known unchanged; those not seen yet are looked up with one query for their links. */
  async changed(records: CrmRecord[]): Promise<CrmRecord[]> {
    const unseen = records.filter((record) => !this.known.has(versionOf(record)));
    if (unseen.length > 0) {
      const links = await this.run.links.findByCrmIds(
        this.run.connection.id,
        this.object,
        unseen.filter((record) => subSecond(record)).map((record) => record.id),
      );
      const seenAt = new Map(links.map((link) => [link.crmId, link.crmModifiedAt?.getTime()]));
      for (const record of unseen) {
        const at = Date.parse(record.modifiedAt);
        this.known.set(versionOf(record), subSecond(record) && seenAt.get(record.id) === at);
      }
    }
    return records.filter((record) => this.known.get(versionOf(record)) !== true);
  }

  /** Forgets records once their page is applied (memory stays bounded by the pages read ahead). */
  forget(records: CrmRecord[]): void {
    for (const record of records) this.known.delete(versionOf(record));
  }
}

const versionOf = (record: CrmRecord): string => `${record.id}|${record.modifiedAt}`;

const subSecond = (record: CrmRecord): boolean => {
  const at = Date.parse(record.modifiedAt);
  return Number.isFinite(at) && at % 1000 !== 0;
};

/** The cursor a mapping change leaves for the next read: everything, every record compared again. */
export const RECOMPARE_ALL: SyncCursor = { modifiedAt: new Date(0).toISOString(), recompare: true };

/** Where a read starts (as the connector takes it), and whether it is a re-comparison (see `RECOMPARE_ALL`). */
export function readPosition(saved: SyncCursor | null): { since: SyncCursor | null; recompare: boolean } {
  if (!saved?.recompare) return { since: saved, recompare: false };
  if (saved.modifiedAt === RECOMPARE_ALL.modifiedAt && saved.lastId === undefined) {
    return { since: null, recompare: true };
  }
  const { recompare: _marker, ...since } = saved;
  return { since, recompare: true };
}
