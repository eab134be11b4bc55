import { CrmError, CrmErrorCode } from '../../errors';
import type { UpsertBatchRequest, UpsertResult } from '../../types';
import type { InMemoryCrm } from './in-memory-crm';
import { IN_MEMORY_PROVIDER } from './provider';

/** Creates or updates each record on its own: one record's rejection is its result, never the batch's. */
export function upsertBatch(
  crm: InMemoryCrm,
  request: UpsertBatchRequest,
  maxWriteBatch: number,
): UpsertResult[] {
  const schema = crm.schema(request.object);
  if (request.records.length > maxWriteBatch) {
    throw new CrmError(
      CrmErrorCode.VALIDATION_FAILED,
      `A batch takes at most ${maxWriteBatch} records, got ${request.records.length}`,
      { status: 400, provider: IN_MEMORY_PROVIDER },
    );
  }
  return request.records.map((input): UpsertResult => {
    let target = input.crmId === undefined ? undefined : crm.storedRecord(request.object, input.crmId);
    if (input.crmId !== undefined && target === undefined) {
      return {
        key: input.key,
        ok: false,
        error: { code: CrmErrorCode.NOT_FOUND, message: `${request.object} ${input.crmId} does not exist` },
      };
    }
    const email = schema.emailField === undefined ? undefined : input.fields[schema.emailField];
    // A create is looked up by e-mail here unless the caller says it just did that (`createsMatched`).
    if (target === undefined && typeof email === 'string' && request.createsMatched !== true) {
      const [match] = crm.recordsByEmail(request.object, [email]);
      target = match && crm.storedRecord(request.object, match.id);
    }
    const problem = crm.validate(request.object, input.fields, target);
    if (problem) {
      return { key: input.key, ok: false, error: problem };
    }
    const saved =
      target === undefined
        ? crm.createRecord(request.object, input.fields)
        : crm.updateRecord(request.object, target.id, input.fields);
    return {
      key: input.key,
      ok: true,
      crmId: saved.id,
      created: target === undefined,
      modifiedAt: saved.modifiedAt,
    };
  });
}
