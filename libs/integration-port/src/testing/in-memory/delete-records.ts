import type { DeleteRecordsRequest, DeleteResult } from '../../types';
import type { InMemoryCrm } from './in-memory-crm';

export function deleteRecords(crm: InMemoryCrm, request: DeleteRecordsRequest): DeleteResult[] {
  crm.schema(request.object);
  return request.ids.map((id): DeleteResult => {
    // Already gone (deleted before, or never there): deleting is idempotent.
    if (crm.storedRecord(request.object, id) !== undefined) crm.deleteRecord(request.object, id);
    return { id, ok: true };
  });
}
