import type { CrmRecord, FindByFieldRequest } from '../../types';
import type { InMemoryCrm } from './in-memory-crm';

/**
 * Live records whose `field` holds one of the values as text; the object's e-mail field is compared without regard
 * to case (as the CRMs compare e-mails), every other field exactly.
 */
export function findByField(crm: InMemoryCrm, request: FindByFieldRequest): CrmRecord[] {
  if (request.values.length === 0) return [];
  const ignoreCase = crm.schema(request.object).emailField === request.field;
  const comparable = (value: string) => (ignoreCase ? value.toLowerCase() : value);
  const wanted = new Set(request.values.map(comparable));
  return crm.listRecords(request.object).filter((record) => {
    const value = record.fields[request.field];
    return (typeof value === 'string' || typeof value === 'number') && wanted.has(comparable(String(value)));
  });
}
