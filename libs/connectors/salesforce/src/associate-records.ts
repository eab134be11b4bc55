import {
  CrmErrorCode,
  type AssociateRecordsRequest,
  type AssociateResult,
  type RecordError,
} from '@pm/integration-port';
import type { SaveResult } from 'jsforce';
import { recordErrorFrom, type CollectionError } from './errors';
import { objectSpec } from './objects';
import { belongsTo, isRecordId } from './record-ids';
import type { SessionConnection } from './session-connection';
import { MAX_WRITE_BATCH } from './upsert-batch';

/**
 * The lookup field that associates a record of one object with one of another: a Contact belongs to an Account
 * through `Contact.AccountId` (a Lead has no Account until it is converted).
 */
const LOOKUPS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Contact: { Account: 'AccountId' },
};

/**
 * Sets each record's lookup to its company with sObject Collections (`PATCH /composite/sobjects`, `allOrNone:
 * false`, 200 a call), one result per pair in order. Setting the Account a Contact already has is a plain update.
 */
export async function associateRecords(
  connection: SessionConnection,
  request: AssociateRecordsRequest,
): Promise<AssociateResult[]> {
  const object = objectSpec(request.object)?.capability.name ?? request.object;
  const toSpec = objectSpec(request.toObject);
  const lookup = LOOKUPS[object]?.[toSpec?.capability.name ?? request.toObject];
  const refused = (id: string, toId: string): RecordError | undefined => {
    if (lookup === undefined) {
      return {
        code: CrmErrorCode.VALIDATION_FAILED,
        message: `Salesforce ${object} records cannot be associated with ${request.toObject} records`,
      };
    }
    if (!isRecordId(id) || !belongsTo(objectSpec(object), id)) {
      return { code: CrmErrorCode.VALIDATION_FAILED, message: `${id} is not a ${object} id` };
    }
    if (!isRecordId(toId) || !belongsTo(toSpec, toId)) {
      return { code: CrmErrorCode.VALIDATION_FAILED, message: `${toId} is not a ${request.toObject} id` };
    }
    return undefined;
  };
  const results: AssociateResult[] = request.pairs.map(({ id, toId }) => {
    const error = refused(id, toId);
    return error ? { id, ok: false, error } : { id, ok: true };
  });
  const toSend = request.pairs.map((pair, index) => ({ ...pair, index })).filter((p) => results[p.index].ok);
  for (let start = 0; start < toSend.length; start += MAX_WRITE_BATCH) {
    const chunk = toSend.slice(start, start + MAX_WRITE_BATCH);
    const answers = await connection.call((conn) =>
      conn.sobject(object).update(
        chunk.map((pair) => ({ Id: pair.id, [lookup as string]: pair.toId })),
        { allOrNone: false },
      ),
    );
    chunk.forEach((pair, position) => {
      const answer: SaveResult | undefined = answers[position];
      results[pair.index] = answer?.success
        ? { id: pair.id, ok: true }
        : {
            id: pair.id,
            ok: false,
            error: recordErrorFrom(answer ? (answer.errors as unknown as CollectionError[]) : undefined),
          };
    });
  }
  return results;
}
