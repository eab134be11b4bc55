import { CrmError, CrmErrorCode } from '../../errors';
import type { CrmSession } from '../../types';
import type { InMemoryCrm } from './in-memory-crm';
import { IN_MEMORY_PROVIDER } from './provider';

/** What every call does first: honour an abort, then have the CRM check the access token. */
export function enterSession(crm: InMemoryCrm, session: CrmSession): void {
  if (session.signal?.aborted) {
    throw new CrmError(CrmErrorCode.ABORTED, 'The call was aborted', {
      provider: IN_MEMORY_PROVIDER,
      cause: session.signal.reason,
    });
  }
  crm.authenticate(session.accessToken);
}
