import {
  CrmError,
  CrmErrorCode,
  type AssociateRecordsRequest,
  type AssociateResult,
  type CrmSession,
} from '@pm/integration-port';
import type { PipedriveHttpClient } from './client';
import { isAccountLevelError, toRecordError } from './errors';
import { PIPEDRIVE_ID } from './get-records';
import { requirePipedriveObject } from './objects';

/**
 * associateRecords: a person belongs to one organization through `org_id`, set with `PATCH /api/v2/persons/{id}`
 * one pair a request (Pipedrive has no batch write). A refused pair (an organization Pipedrive does not know, a
 * deleted person) fails alone with Pipedrive's message; an account-level failure stops the call.
 */
export async function associatePipedriveRecords(
  http: PipedriveHttpClient,
  session: CrmSession,
  request: AssociateRecordsRequest,
): Promise<AssociateResult[]> {
  const supported =
    requirePipedriveObject(request.object) === 'persons' &&
    requirePipedriveObject(request.toObject) === 'organizations';
  const results: AssociateResult[] = [];
  for (const { id, toId } of request.pairs) {
    if (!supported || !PIPEDRIVE_ID.test(id) || !PIPEDRIVE_ID.test(toId)) {
      const message = supported
        ? `Not a Pipedrive id pair: ${id} → ${toId}`
        : `Pipedrive ${request.object} cannot be associated with ${request.toObject}`;
      results.push({ id, ok: false, error: { code: CrmErrorCode.VALIDATION_FAILED, message } });
      continue;
    }
    try {
      await http.api(session, {
        method: 'PATCH',
        path: `/api/v2/persons/${encodeURIComponent(id)}`,
        body: { org_id: Number(toId) },
      });
      results.push({ id, ok: true });
    } catch (error) {
      if (isAccountLevelError(error) || !(error instanceof CrmError)) throw error;
      results.push({ id, ok: false, error: toRecordError(error, error.field) });
    }
  }
  return results;
}
