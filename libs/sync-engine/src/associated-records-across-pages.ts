import type { ChangePage, CrmRecord } from '@pm/integration-port';

/** Associated records some read records point to: which object, which of its fields the mapping uses, which ids. */
export interface AssociatedRead {
  object: string;
  fields: string[];
  ids: string[];
}

export interface AssociatedRecordsAcrossPages {
  /** The associated records the records of a page need (the mapping's associated values). */
  idsToRead(records: readonly CrmRecord[]): AssociatedRead[];
  /** Whether this run already holds that record with those fields (see `CrmGateway.rememberRead`). */
  known(object: string, id: string, fields: readonly string[]): boolean;
  /** Most records held back while waiting. */
  maxHeldRecords: number;
  /** Reads the records and keeps them for the run (the matcher then finds them without a call). */
  read(read: AssociatedRead): Promise<void>;
}

/**
 * The pages as read, held until `maxHeldRecords` are held (or the read ends); the associated records they need and
 * the run does not hold yet (the companies of their contacts) are then read in one go and the pages handed on (at
 * once when they need none). Contacts spread over many pages mostly share companies, so a page alone would make a
 * small read for its few new ones: a read of 10,000 contacts in 20 pages reads their companies in a few full
 * requests, not 20 part-full ones. The caller still applies (and moves its cursor past) each page in turn.
 */
export async function* withAssociatedRecordsAcrossPages(
  pages: AsyncGenerator<ChangePage, void, undefined>,
  options: AssociatedRecordsAcrossPages,
): AsyncGenerator<ChangePage, void, undefined> {
  let held: ChangePage[] = [];
  let records = 0;
  let wanted = new Map<string, { fields: string[]; ids: Set<string> }>();
  const wantedCount = () => [...wanted.values()].reduce((sum, read) => sum + read.ids.size, 0);
  const release = async () => {
    for (const [object, read] of wanted) {
      if (read.ids.size > 0) await options.read({ object, fields: read.fields, ids: [...read.ids] });
    }
    const out = held;
    held = [];
    records = 0;
    wanted = new Map();
    return out;
  };
  for await (const page of pages) {
    held.push(page);
    records += page.records.length;
    for (const read of options.idsToRead(page.records)) {
      const entry = wanted.get(read.object) ?? { fields: read.fields, ids: new Set<string>() };
      wanted.set(read.object, entry);
      for (const id of read.ids) if (!options.known(read.object, id, read.fields)) entry.ids.add(id);
    }
    // Nothing to read: no reason to hold the pages back. Otherwise the more pages share one read, the fewer part-full
    // requests it makes.
    if (wantedCount() > 0 && records < options.maxHeldRecords) continue;
    yield* await release();
  }
  if (held.length > 0) yield* await release();
}
