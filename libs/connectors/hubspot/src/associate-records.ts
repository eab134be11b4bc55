import { inBatches } from '@pm/connector-kit';
import { CrmErrorCode, type AssociateRecordsRequest, type AssociateResult } from '@pm/integration-port';
import type { HubSpotCall } from './client';
import { HUBSPOT_MAX_BATCH } from './config';
import { recordErrorFromBatchError, type HubSpotErrorBody } from './errors';
import { requireObject } from './records';

/**
 * associateRecords (associations v4): a contact belongs to one company here, as in the other CRMs, so its other
 * company associations are read (`batch/read`) and removed (`batch/archive`) before the default association is
 * made (`batch/associate/default`), 100 pairs a call. HubSpot answers that call 200 with an `errors` list whose
 * `context` names the ids it refused; those pairs fail with HubSpot's message, the others succeed.
 */
export async function associateHubSpotRecords(
  call: HubSpotCall,
  request: AssociateRecordsRequest,
): Promise<AssociateResult[]> {
  const from = requireObject(request.object).capability.name;
  const to = requireObject(request.toObject).capability.name;
  const results = new Map<string, AssociateResult>();
  for (const chunk of inBatches(request.pairs, HUBSPOT_MAX_BATCH)) {
    const existing = await call.run(() =>
      call.associations.getPage(from, to, { inputs: chunk.map((pair) => ({ id: pair.id })) }, call.options),
    );
    const wanted = new Map(chunk.map((pair) => [pair.id, pair.toId]));
    const stale = existing.results
      .map((result) => ({
        _from: { id: result._from.id },
        to: result.to
          .map((target) => ({ id: String(target.toObjectId) }))
          .filter((target) => target.id !== wanted.get(result._from.id)),
      }))
      .filter((input) => input.to.length > 0);
    if (stale.length > 0) {
      await call.run(() => call.associations.archive(from, to, { inputs: stale }, call.options));
    }
    const answer = await call.run(() =>
      call.associations.createDefault(
        from,
        to,
        { inputs: chunk.map((pair) => ({ _from: { id: pair.id }, to: { id: pair.toId } })) },
        call.options,
      ),
    );
    const errors = 'errors' in answer ? ((answer.errors ?? []) as unknown as HubSpotErrorBody[]) : [];
    for (const pair of chunk) {
      const error = errors.find((entry) =>
        Object.values(entry.context ?? {}).some(
          (ids) => ids !== undefined && (ids.includes(pair.id) || ids.includes(pair.toId)),
        ),
      );
      results.set(
        pair.id,
        error === undefined
          ? { id: pair.id, ok: true }
          : { id: pair.id, ok: false, error: recordErrorFromBatchError(error) },
      );
    }
  }
  return request.pairs.map(
    (pair) =>
      results.get(pair.id) ?? {
        id: pair.id,
        ok: false,
        error: { code: CrmErrorCode.UNKNOWN, message: 'HubSpot returned no result for this association' },
      },
  );
}
