import type { CrmRecord } from '@pm/integration-port';

/** Most records per object a run keeps (a few MB of company records); past it, the rest are read again as needed. */
const KEPT_PER_OBJECT = 20_000;

/**
 * Records a run has read and left as the CRM holds them (the company pass's companies, the companies of earlier
 * pages' contacts), and ids it found gone: a later page's associated values come from here instead of a second
 * read. A record the run writes or deletes is forgotten before the write.
 */
export class RecordsReadInRun {
  /** By object, then id: the record as read, or null where the CRM had none. */
  private readonly byObject = new Map<string, Map<string, CrmRecord | null>>();

  remember(object: string, records: readonly CrmRecord[], missingIds: readonly string[] = []): void {
    let kept = this.byObject.get(object);
    if (!kept) this.byObject.set(object, (kept = new Map()));
    const entries: [string, CrmRecord | null][] = [
      ...records.map((record): [string, CrmRecord] => [record.id, record]),
      ...missingIds.map((id): [string, null] => [id, null]),
    ];
    for (const [id, record] of entries) {
      if (kept.size >= KEPT_PER_OBJECT && !kept.has(id)) break;
      kept.set(id, record);
    }
  }

  /** The record with at least `fields`, null if the CRM had none, undefined if not known. */
  lookup(object: string, id: string, fields: readonly string[]): CrmRecord | null | undefined {
    const record = this.byObject.get(object)?.get(id);
    if (record === null) return null;
    return record && fields.every((field) => field in record.fields) ? record : undefined;
  }

  forget(object: string, ids: readonly (string | undefined)[]): void {
    const kept = this.byObject.get(object);
    if (!kept) return;
    for (const id of ids) if (id !== undefined) kept.delete(id);
  }
}
