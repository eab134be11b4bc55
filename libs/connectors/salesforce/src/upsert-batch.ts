import {
  CrmError,
  CrmErrorCode,
  type RecordError,
  type UpsertBatchRequest,
  type UpsertInput,
  type UpsertResult,
} from '@pm/integration-port';
import { normaliseEmail } from '@pm/connector-kit';
import type { Connection, SaveResult } from 'jsforce';
import type { FieldCatalog } from './describe-object';
import { recordErrorFrom, recordErrorOf, type CollectionError } from './errors';
import { emailOf, findByEmail } from './find-by-email';
import { objectSpec } from './objects';
import type { SessionConnection } from './session-connection';

/** sObject Collections take at most 200 records per call (REST API "sObject Collections"). */
export const MAX_WRITE_BATCH = 200;

type PlannedWrite =
  | { kind: 'update'; index: number; id: string; created: boolean; fields: Record<string, unknown> }
  | { kind: 'create'; index: number; fields: Record<string, unknown> }
  | { kind: 'done'; index: number; result: UpsertResult };

/** sObject Collections answer entries carry `statusCode` per error (jsforce's SaveError type says errorCode). */
function errorsOf(result: SaveResult): CollectionError[] {
  return (result.success ? [] : (result.errors as unknown as CollectionError[])) ?? [];
}

/**
 * Runs one collection call. Salesforce refuses a whole collection request for some data errors (a wrongly typed JSON
 * value: JSON_PARSER_ERROR); that answer belongs to each record of the call, not to the batch-mates of other calls.
 * Anything else (limits, auth, outages) is the call's failure and is thrown for the engine to retry.
 */
async function collectionCall(
  connection: SessionConnection,
  run: (conn: Connection) => Promise<SaveResult[]>,
): Promise<SaveResult[] | RecordError> {
  try {
    return await connection.call(run);
  } catch (error) {
    if (error instanceof CrmError && error.code === CrmErrorCode.VALIDATION_FAILED)
      return recordErrorOf(error);
    throw error;
  }
}

/** The fields to send: never `Id` or `attributes` (the collection entry carries them). */
function writableFields(fields: Record<string, unknown>): Record<string, unknown> {
  const { Id: _id, id: _lowerId, attributes: _attributes, ...rest } = fields;
  void _id;
  void _lowerId;
  void _attributes;
  return rest;
}

/**
 * Creates and updates through sObject Collections (`PATCH /composite/sobjects` for updates, `POST` for creates,
 * `allOrNone: false`), one result per input in input order; a record Salesforce rejects fails alone with its
 * `errors[0]` (statusCode, message, fields).
 *
 * Creates never duplicate: unless the caller says it has just matched them (`createsMatched`), inputs without a CRM
 * id are first looked up by e-mail (one SOQL query for the whole batch). A create whose answer was lost (reset,
 * timeout) and that the engine retries without that flag finds the record made the first time and becomes an
 * update. With `createsMatched` the engine's own look-up by e-mail was that check, so none is made here: one call
 * less per batch. Two inputs with one e-mail in a batch cannot both create: the later ones fail with DUPLICATE and
 * go again in the next batch (when the first one exists and the lookup finds it).
 */
export async function upsertBatch(
  connection: SessionConnection,
  request: UpsertBatchRequest,
  catalog?: FieldCatalog,
): Promise<UpsertResult[]> {
  if (request.records.length > MAX_WRITE_BATCH) {
    throw new CrmError(
      CrmErrorCode.VALIDATION_FAILED,
      `Salesforce takes at most ${MAX_WRITE_BATCH} records per write call, got ${request.records.length}`,
      { provider: 'salesforce' },
    );
  }
  const spec = objectSpec(request.object);
  const object = spec?.capability.name ?? request.object;
  const emailField = spec?.capability.emailField;
  // An unknown field makes Salesforce refuse the whole request: check names against the (cached) describe first,
  // so a record with one fails alone.
  const names = new Set(request.records.flatMap((input) => Object.keys(writableFields(input.fields))));
  const unknown = new Set(
    catalog !== undefined && names.size > 0 ? await catalog.unknownFields(connection, object, names) : [],
  );
  const plan = await planWrites(
    connection,
    object,
    request.createsMatched === true ? undefined : emailField,
    emailField,
    request.records,
    unknown,
  );

  const results: UpsertResult[] = new Array<UpsertResult>(request.records.length);
  for (const step of plan) if (step.kind === 'done') results[step.index] = step.result;

  const updates = plan.filter(
    (step): step is Extract<PlannedWrite, { kind: 'update' }> => step.kind === 'update',
  );
  const creates = plan.filter(
    (step): step is Extract<PlannedWrite, { kind: 'create' }> => step.kind === 'create',
  );
  const key = (index: number) => request.records[index].key;

  if (updates.length > 0) {
    const answers = await collectionCall(connection, (conn) =>
      conn.sobject(object).update(
        updates.map((step) => ({ Id: step.id, ...step.fields })),
        { allOrNone: false },
      ),
    );
    updates.forEach((step, position) => {
      if (!Array.isArray(answers)) {
        results[step.index] = { key: key(step.index), ok: false, error: answers };
        return;
      }
      const answer = answers[position];
      results[step.index] = answer?.success
        ? { key: key(step.index), ok: true, crmId: step.id, created: step.created }
        : { key: key(step.index), ok: false, error: recordErrorFrom(answer ? errorsOf(answer) : undefined) };
    });
  }
  if (creates.length > 0) {
    const answers = await collectionCall(connection, (conn) =>
      conn.sobject(object).create(
        creates.map((step) => step.fields),
        { allOrNone: false },
      ),
    );
    creates.forEach((step, position) => {
      if (!Array.isArray(answers)) {
        results[step.index] = { key: key(step.index), ok: false, error: answers };
        return;
      }
      const answer = answers[position];
      results[step.index] =
        answer?.success && answer.id
          ? { key: key(step.index), ok: true, crmId: answer.id, created: true }
          : {
              key: key(step.index),
              ok: false,
              error: recordErrorFrom(answer ? errorsOf(answer) : undefined),
            };
    });
  }
  return results;
}

async function planWrites(
  connection: SessionConnection,
  object: string,
  /** The e-mail field creates are looked up by; undefined when the caller has matched them already. */
  lookUpField: string | undefined,
  emailField: string | undefined,
  inputs: readonly UpsertInput[],
  unknownFields: ReadonlySet<string>,
): Promise<PlannedWrite[]> {
  const unknownIn = (input: UpsertInput): string | undefined =>
    Object.keys(writableFields(input.fields)).find((name) => unknownFields.has(name.toLowerCase()));
  const emailOfInput = (input: UpsertInput): string | undefined =>
    emailField === undefined ? undefined : normaliseEmail(input.fields[emailField]);
  const lookups = inputs
    .filter((input) => input.crmId === undefined && unknownIn(input) === undefined)
    .map(emailOfInput)
    .filter((email): email is string => email !== undefined);
  const existing = new Map<string, string>();
  if (lookUpField !== undefined && lookups.length > 0) {
    // Oldest first: when the CRM already holds duplicates, every retry lands on the same (first) record.
    // Only what matching needs: the id, the e-mail and (from the system fields) the creation date.
    for (const record of await findByEmail(connection, object, lookups, [lookUpField])) {
      const email = emailOf(record, lookUpField);
      if (email !== undefined && !existing.has(email)) existing.set(email, record.id);
    }
  }
  const creatingEmails = new Set<string>();
  return inputs.map((input, index): PlannedWrite => {
    const unknown = unknownIn(input);
    if (unknown !== undefined) {
      // Salesforce's own words for this request-level refusal (INVALID_FIELD), kept to the one record.
      const error: RecordError = {
        code: CrmErrorCode.VALIDATION_FAILED,
        message: `No such column '${unknown}' on sobject of type ${object}`,
        field: unknown,
        crmCode: 'INVALID_FIELD',
      };
      return { kind: 'done', index, result: { key: input.key, ok: false, error } };
    }
    const fields = writableFields(input.fields);
    if (input.crmId !== undefined) return { kind: 'update', index, id: input.crmId, created: false, fields };
    const email = emailOfInput(input);
    const matched = email === undefined ? undefined : existing.get(email);
    if (matched !== undefined) return { kind: 'update', index, id: matched, created: false, fields };
    if (email !== undefined) {
      if (creatingEmails.has(email)) {
        return {
          kind: 'done',
          index,
          result: {
            key: input.key,
            ok: false,
            error: recordErrorOf(
              new CrmError(
                CrmErrorCode.DUPLICATE,
                `Another record in this batch creates a ${object} with the e-mail ${email}`,
                { field: emailField },
              ),
            ),
          },
        };
      }
      creatingEmails.add(email);
    }
    return { kind: 'create', index, fields };
  });
}
