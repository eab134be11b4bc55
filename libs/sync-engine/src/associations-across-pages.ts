import { inBatches, mapWithConcurrency } from '@pm/connector-kit';
import type { ChangePage, CrmRecord } from '@pm/integration-port';

export interface AssociationsAcrossPages {
  /** The associated objects whose ids the records need. */
  toObjects: readonly string[];
  /** The most records one page holds. */
  pageSize: number;
  /** The most ids one association read takes (`maxAssociationRead`). */
  maxIds: number;
  /** Association reads at once (the gateway's lanes). */
  concurrency: number;
  /**
   * Of the records read, those whose associations are wanted (default: all). The others (say, records the caller
   * knows unchanged since it last synced them) are handed on without associations.
   */
  needing?: (records: CrmRecord[]) => Promise<CrmRecord[]>;
  /** One association read (through the gateway's retry loop and gate): id → associated ids. */
  read(toObject: string, ids: string[]): Promise<Record<string, string[]>>;
}

/**
 * The pages as read, held until one more page could take their records past one association read (`maxIds`), then
 * given their associations in one read per associated object and handed on: a read of N pages of 200 makes
 * ⌈N × 200 / 1,000⌉ association reads, not N. The caller still applies (and moves its cursor past) each page in turn;
 * at most five pages of 200 are held.
 */
export async function* withAssociationsAcrossPages(
  pages: AsyncGenerator<ChangePage, void, undefined>,
  options: AssociationsAcrossPages,
): AsyncGenerator<ChangePage, void, undefined> {
  let held: ChangePage[] = [];
  let records = 0;
  for await (const page of pages) {
    held.push(page);
    records += page.records.length;
    if (records + options.pageSize <= options.maxIds) continue;
    await addAssociations(held, options);
    yield* held;
    held = [];
    records = 0;
  }
  if (held.length > 0) {
    await addAssociations(held, options);
    yield* held;
  }
}

async function addAssociations(pages: ChangePage[], options: AssociationsAcrossPages): Promise<void> {
  const read = pages.flatMap((page) => page.records);
  const records = options.needing && read.length > 0 ? await options.needing(read) : read;
  if (records.length === 0) return;
  const ids = records.map((record) => record.id);
  const reads = options.toObjects.flatMap((toObject) =>
    inBatches(ids, options.maxIds).map((batch) => ({ toObject, ids: batch })),
  );
  const answers = await mapWithConcurrency(reads, options.concurrency, (read) =>
    options.read(read.toObject, read.ids),
  );
  const byObject = new Map<string, Record<string, string[]>>();
  reads.forEach((read, i) => byObject.set(read.toObject, { ...byObject.get(read.toObject), ...answers[i] }));
  for (const record of records) {
    const associations = { ...record.associations };
    for (const toObject of options.toObjects)
      associations[toObject] = byObject.get(toObject)?.[record.id] ?? [];
    record.associations = associations;
  }
}
