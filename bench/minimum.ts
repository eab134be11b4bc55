import type { BenchSandbox } from './harness';

/** What one sync run must read from the CRM, as the benchmark knows it from what it changed on each side. */
export interface ReadWork {
  /** Records the CRM's change read returns: changed since the last read, the previous run's own writes included. */
  returned: number;
  /** Of those, records unchanged since a run synced them (its own writes, a re-read of what it applied). */
  alreadySynced: number;
  /** The read starts from a cursor (an earlier read returned records), so it also looks for deletions. */
  fromCursor: boolean;
}

export const NO_READ: ReadWork = { returned: 0, alreadySynced: 0, fromCursor: false };

/**
 * The fewest requests a run can make for this work through the CRM's API with the connection's default mapping:
 * - writes: ⌈records written / records per write request⌉;
 * - the change read: ⌈records returned / read page⌉, at least one. No CRM's change read can leave out the
 *   integration's own writes, so the run after a large write reads it back once;
 * - where the read does not carry associations and the mapping reads a value from an associated record (HubSpot:
 *   the contact's company), the association ids: ⌈records planned / ids per association read⌉. A CRM that stamps
 *   modification times to the millisecond lets the engine tell its own unchanged writes from edits, so those are
 *   not planned; one that stamps whole seconds cannot;
 * - the associated records themselves (Pipedrive: the persons' organizations): ⌈distinct ones / ids per read⌉, at
 *   most one per planned record;
 * - where deletions are not in the change read (HubSpot's recycle bin), one listing page on a read from a cursor.
 */
export function minimumCalls(bench: BenchSandbox, writes: number, read: ReadWork): number {
  const capabilities = bench.port.capabilities();
  const perWrite = capabilities.writeRecordsPerRequest ?? capabilities.maxWriteBatch;
  const mapping = capabilities.defaultMappings?.[bench.crm.object];
  const readsAssociated = mapping?.fields.some((entry) => entry.associated !== undefined) ?? false;
  const planned = read.returned - (bench.crm.reads.subSecondStamps ? read.alreadySynced : 0);
  const associationIds =
    readsAssociated && capabilities.maxAssociationRead
      ? Math.ceil(planned / capabilities.maxAssociationRead)
      : 0;
  const companies = Math.min(planned, bench.crm.reads.companiesWithContacts(bench.sandbox));
  const perRecordRead = capabilities.requestCounts?.getRecords?.itemsPerRequest ?? 100;
  const associatedRecords = readsAssociated ? Math.ceil(companies / perRecordRead) : 0;
  const deletions = bench.crm.reads.deletionListing && read.fromCursor ? 1 : 0;
  return (
    Math.ceil(writes / perWrite) +
    Math.max(1, Math.ceil(read.returned / capabilities.maxReadPage)) +
    associationIds +
    associatedRecords +
    deletions
  );
}
