import { mapWithConcurrency } from '@pm/connector-kit';
import type { ChangePage, CrmRecord, GetRecordsRequest, UpsertInput } from '@pm/integration-port';
import { withAssociatedRecordsAcrossPages, type AssociatedRead } from './associated-records-across-pages';
import { associatedIdsToRead, type AssociatedRecords, type ObjectMapping } from './field-mapping';
import { RecordsReadInRun } from './records-read-in-run';

/** Most read records held back while their associated records gather into a full read request. */
const ASSOCIATED_HOLD_RECORDS = 2_000;

/**
 * The associated records (a contact's company) a run's mapped values come from: read for several pages at once,
 * kept for the run (`RecordsReadInRun`), and never read twice. The gateway owns one per run.
 */
export class AssociatedRecordReader {
  private readonly kept = new RecordsReadInRun();

  constructor(
    private readonly concurrency: number,
    private readonly getRecords: (request: GetRecordsRequest) => Promise<CrmRecord[]>,
  ) {}

  /** The pages, each handed on once the associated records its records need are read (see the generator). */
  acrossPages(
    pages: AsyncGenerator<ChangePage, void, undefined>,
    mapping: ObjectMapping,
    pageSize: number,
  ): AsyncGenerator<ChangePage, void, undefined> {
    return withAssociatedRecordsAcrossPages(pages, {
      idsToRead: (records) => associatedIdsToRead(mapping, records),
      known: (object, id, fields) => this.kept.lookup(object, id, fields) !== undefined,
      maxHeldRecords: Math.max(pageSize, ASSOCIATED_HOLD_RECORDS),
      read: async (read) => void (await this.readAndKeep(read)),
    });
  }

  /** The associated records of `records`: those kept, and one read per associated object for the rest. */
  async readFor(mapping: ObjectMapping, records: readonly CrmRecord[]): Promise<AssociatedRecords> {
    const reads = associatedIdsToRead(mapping, records).map((read) => {
      const known = read.ids.map((id) => this.kept.lookup(read.object, id, read.fields));
      return {
        ...read,
        known: known.filter((record): record is CrmRecord => record !== null && record !== undefined),
        ids: read.ids.filter((_, index) => known[index] === undefined),
      };
    });
    const found = await mapWithConcurrency(reads, this.concurrency, (read) => this.readAndKeep(read));
    return new Map(
      reads.map((read, index) => [
        read.object,
        new Map([...read.known, ...found[index]].map((record) => [record.id, record])),
      ]),
    );
  }

  remember(object: string, records: readonly CrmRecord[]): void {
    this.kept.remember(object, records);
  }

  /** Records about to change in the CRM: what was kept of them is no longer what the CRM holds. */
  forget(object: string, inputs: readonly Pick<UpsertInput, 'crmId'>[]): void {
    this.kept.forget(
      object,
      inputs.map((input) => input.crmId),
    );
  }

  /** Reads associated records (their own associations are not used: none are read); an id found gone is kept too. */
  private async readAndKeep(read: AssociatedRead): Promise<CrmRecord[]> {
    if (read.ids.length === 0) return [];
    const found = await this.getRecords({ ...read, associations: [] });
    const foundIds = new Set(found.map((record) => record.id));
    this.kept.remember(
      read.object,
      found,
      read.ids.filter((id) => !foundIds.has(id)),
    );
    return found;
  }
}
