import type { CrmRecord, FindCompaniesRequest } from '../../types';
import type { InMemoryCrm, StoredRecord } from './in-memory-crm';

/** Live companies matching one of the names or domains, with only the requested fields when some are named. */
export function findCompanies(crm: InMemoryCrm, request: FindCompaniesRequest): CrmRecord[] {
  crm.schema(request.object);
  return crm
    .companiesMatching(request.object, request.names, request.domains)
    .map((record) =>
      request.fields
        ? crm.toCrmRecord(crm.storedRecord(record.object, record.id) as StoredRecord, request.fields)
        : record,
    );
}
