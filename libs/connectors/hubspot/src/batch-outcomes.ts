import { CrmError, CrmErrorCode, type RecordError } from '@pm/integration-port';
import { recordErrorFromBatchError, recordErrorFromCrmError, type HubSpotErrorBody } from './errors';
import type { SdkObject } from './records';

/**
 * Matching a HubSpot batch answer back to its inputs. HubSpot does not promise results in input order, so every
 * input carries an `objectWriteTraceId` (its position) which HubSpot echoes on the result and in the context of
 * the input's error; a result without it is matched by a key (the id of an update, the e-mail of an upsert).
 *
 * HubSpot answers a batch with per-record errors as a 207, but refuses some batches whole with a 400 (one bad
 * record, and nothing is written). Then the batch is split in halves until the bad records stand alone, so one
 * bad record never fails its batch-mates; re-sending is safe because nothing of a refused batch was written.
 */

export interface BatchEntry {
  /** The input's position in the caller's request; sent as objectWriteTraceId. */
  traceId: string;
  /** How a result without a trace id is recognised (record id, lower-cased e-mail). */
  matchKey?: string;
}

export interface SdkBatchResult extends SdkObject {
  objectWriteTraceId?: string;
  _new?: boolean;
}

export interface SdkBatchAnswer {
  results: SdkBatchResult[];
  errors?: Array<HubSpotErrorBody & { context?: Record<string, string[] | undefined> }>;
}

export type BatchOutcome = { ok: true; object: SdkBatchResult } | { ok: false; error: RecordError };

const NO_RESULT: RecordError = {
  code: CrmErrorCode.UNKNOWN,
  message: 'HubSpot returned neither a result nor an error for this record',
};

/** Runs `send` for the entries and returns one outcome per trace id. */
export async function runBatchIsolated<E extends BatchEntry>(
  entries: E[],
  send: (entries: E[]) => Promise<SdkBatchAnswer>,
  resultKey: (result: SdkBatchResult) => string | undefined,
): Promise<Map<string, BatchOutcome>> {
  const outcomes = new Map<string, BatchOutcome>();
  if (entries.length === 0) return outcomes;
  let answer: SdkBatchAnswer;
  try {
    answer = await send(entries);
  } catch (error) {
    const refusedWhole =
      CrmError.is(error, CrmErrorCode.VALIDATION_FAILED) || CrmError.is(error, CrmErrorCode.DUPLICATE);
    if (!refusedWhole) throw error;
    if (entries.length === 1) {
      outcomes.set(entries[0].traceId, { ok: false, error: recordErrorFromCrmError(error) });
      return outcomes;
    }
    const middle = Math.ceil(entries.length / 2);
    for (const half of [entries.slice(0, middle), entries.slice(middle)]) {
      for (const [traceId, outcome] of await runBatchIsolated(half, send, resultKey))
        outcomes.set(traceId, outcome);
    }
    return outcomes;
  }
  matchAnswer(entries, answer, resultKey, outcomes);
  return outcomes;
}

function matchAnswer<E extends BatchEntry>(
  entries: E[],
  answer: SdkBatchAnswer,
  resultKey: (result: SdkBatchResult) => string | undefined,
  outcomes: Map<string, BatchOutcome>,
): void {
  const byTrace = new Map(entries.map((entry) => [entry.traceId, entry]));
  const byKey = new Map(
    entries.filter((entry) => entry.matchKey !== undefined).map((entry) => [entry.matchKey as string, entry]),
  );
  const unmatchedResults: SdkBatchResult[] = [];
  for (const result of answer.results ?? []) {
    const entry =
      (result.objectWriteTraceId !== undefined ? byTrace.get(result.objectWriteTraceId) : undefined) ??
      byKey.get(resultKey(result) ?? '\u0000');
    if (entry && !outcomes.has(entry.traceId)) outcomes.set(entry.traceId, { ok: true, object: result });
    else unmatchedResults.push(result);
  }
  const unattributedErrors: RecordError[] = [];
  for (const error of answer.errors ?? []) {
    const traceIds = error.context?.objectWriteTraceId ?? [];
    const recordError = recordErrorFromBatchError(error);
    const attributed = traceIds.filter((traceId) => byTrace.has(traceId) && !outcomes.has(traceId));
    for (const traceId of attributed) outcomes.set(traceId, { ok: false, error: recordError });
    if (attributed.length === 0) unattributedErrors.push(recordError);
  }
  const pending = entries.filter((entry) => !outcomes.has(entry.traceId));
  // Without trace ids or keys, fall back to order, only where the counts leave no doubt.
  if (pending.length > 0 && unattributedErrors.length === 0 && unmatchedResults.length === pending.length) {
    pending.forEach((entry, index) =>
      outcomes.set(entry.traceId, { ok: true, object: unmatchedResults[index] }),
    );
    return;
  }
  if (pending.length > 0 && unmatchedResults.length === 0 && unattributedErrors.length === pending.length) {
    pending.forEach((entry, index) =>
      outcomes.set(entry.traceId, { ok: false, error: unattributedErrors[index] }),
    );
    return;
  }
  for (const entry of pending) {
    outcomes.set(entry.traceId, {
      ok: false,
      error: unattributedErrors.length === 1 && pending.length === 1 ? unattributedErrors[0] : NO_RESULT,
    });
  }
}
