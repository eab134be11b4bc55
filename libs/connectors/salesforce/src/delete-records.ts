import { inBatches } from '@pm/connector-kit';
import {
  CrmErrorCode,
  type DeleteRecordsRequest,
  type DeleteResult,
  type RecordError,
} from '@pm/integration-port';
import { recordErrorFrom, type CollectionError } from './errors';
import { objectSpec } from './objects';
import { belongsTo, isRecordId, recordKey } from './record-ids';
import type { SessionConnection } from './session-connection';

/** sObject Collections delete takes at most 200 ids per call (REST API "sObject Collections"). */
export const IDS_PER_DELETE = 200;

/**
 * Per-record statuses that mean "already gone": ENTITY_IS_DELETED for a record in the recycle bin,
 * INVALID_CROSS_REFERENCE_KEY for a well-formed id Salesforce no longer knows (purged from the bin).
 */
const ALREADY_GONE = new Set(['ENTITY_IS_DELETED', 'INVALID_CROSS_REFERENCE_KEY']);

/** One entry of a Collections delete answer, in the order of `ids`. */
interface DeleteAnswer {
  id?: string | null;
  success: boolean;
  errors?: CollectionError[];
}

/**
 * Deletes with `DELETE /composite/sobjects?ids=…&allOrNone=false`, 200 ids per call, one result per id in input
 * order. Deleting is idempotent: a record already deleted (recycle bin or purged) is `ok: true`. A record Salesforce
 * refuses to delete (a trigger's or validation's error, no access) fails alone with Salesforce's statusCode and
 * message. An id that is malformed or of another object (its key prefix says so: the Collections call is not typed
 * and would delete any record) fails alone without being sent. A call that fails as a whole is thrown, never
 * retried; records deleted by earlier calls stay deleted and a retry reports them `ok`.
 */
export async function deleteRecords(
  connection: SessionConnection,
  request: DeleteRecordsRequest,
): Promise<DeleteResult[]> {
  const spec = objectSpec(request.object);
  const object = spec?.capability.name ?? request.object;
  const refused = (id: string): RecordError | undefined => {
    if (!isRecordId(id)) {
      return { code: CrmErrorCode.VALIDATION_FAILED, message: `Not a Salesforce record id: "${id}"` };
    }
    if (!belongsTo(spec, id)) {
      return {
        code: CrmErrorCode.VALIDATION_FAILED,
        message: `${id} is not a ${object} id (${object} ids start with ${spec?.keyPrefix})`,
      };
    }
    return undefined;
  };

  // Each record is sent once, however often (and in whichever id form) it is listed; its answer goes to every copy.
  const toSend: string[] = [];
  const listed = new Set<string>();
  for (const id of request.ids) {
    if (refused(id) !== undefined || listed.has(recordKey(id))) continue;
    listed.add(recordKey(id));
    toSend.push(id);
  }
  const answers = new Map<string, DeleteResult>();
  for (const chunk of inBatches(toSend, IDS_PER_DELETE)) {
    const query = new URLSearchParams({ ids: chunk.join(','), allOrNone: 'false' });
    const entries = await connection.call((conn) =>
      conn.request<DeleteAnswer[]>({
        method: 'DELETE',
        url: `${connection.baseUrl}/composite/sobjects?${query.toString()}`,
      }),
    );
    chunk.forEach((id, index) => {
      answers.set(recordKey(id), outcome(id, Array.isArray(entries) ? entries[index] : undefined));
    });
  }

  return request.ids.map((id): DeleteResult => {
    const error = refused(id);
    if (error !== undefined) return { id, ok: false, error };
    const answer = answers.get(recordKey(id)) as DeleteResult;
    // Results carry the id as the caller gave it, so they match back to the input.
    return answer.ok ? { id, ok: true } : { id, ok: false, error: answer.error };
  });
}

function outcome(id: string, entry: DeleteAnswer | undefined): DeleteResult {
  if (entry === undefined) {
    return {
      id,
      ok: false,
      error: {
        code: CrmErrorCode.UNKNOWN,
        message: 'Salesforce answered the delete without a result for this id',
      },
    };
  }
  if (entry.success) return { id, ok: true };
  const errors = entry.errors ?? [];
  if (
    errors.length > 0 &&
    errors.every((error) => ALREADY_GONE.has(error.statusCode ?? error.errorCode ?? ''))
  ) {
    return { id, ok: true };
  }
  return { id, ok: false, error: recordErrorFrom(errors) };
}
