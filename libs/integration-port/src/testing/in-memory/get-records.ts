import type { CrmRecord, GetRecordsRequest } from '../../types';
import type { InMemoryCrm } from './in-memory-crm';

/** The live records among `request.ids`, each once; ids that are gone are left out. */
export function getRecords(crm: InMemoryCrm, request: GetRecordsRequest): CrmRecord[] {
  crm.schema(request.object);
  const records: CrmRecord[] = [];
  for (const id of new Set(request.ids)) {
    const stored = crm.storedRecord(request.object, id);
    if (stored !== undefined) records.push(crm.toCrmRecord(stored, request.fields));
  }
  return records;
}
