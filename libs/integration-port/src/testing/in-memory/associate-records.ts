import { CrmError } from '../../errors';
import type { AssociateRecordsRequest, AssociateResult } from '../../types';
import type { InMemoryCrm } from './in-memory-crm';

/** Associates each pair on its own: a pair the CRM refuses is that pair's result, never the call's. */
export function associateRecords(crm: InMemoryCrm, request: AssociateRecordsRequest): AssociateResult[] {
  return request.pairs.map(({ id, toId }): AssociateResult => {
    try {
      crm.associate(request.object, id, request.toObject, toId);
      return { id, ok: true };
    } catch (error) {
      if (!(error instanceof CrmError)) throw error;
      return { id, ok: false, error: { code: error.code, message: error.message } };
    }
  });
}
