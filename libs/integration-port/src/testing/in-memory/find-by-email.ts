import type { CrmRecord } from '../../types';
import type { InMemoryCrm } from './in-memory-crm';

/** Live records whose e-mail is one of `emails`, compared case-insensitively. */
export function findByEmail(crm: InMemoryCrm, object: string, emails: string[]): CrmRecord[] {
  return emails.length === 0 ? [] : crm.recordsByEmail(object, emails);
}
