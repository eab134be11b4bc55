import { normaliseEmail } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  type CrmSession,
  type UpsertBatchRequest,
  type UpsertInput,
  type UpsertResult,
} from '@pm/integration-port';
import type { PipedriveHttpClient } from './client';
import { isAccountLevelError, toRecordError } from './errors';
import { searchPersonIdsByEmail } from './find-by-email';
import { listRecordsByIds, PIPEDRIVE_ID } from './get-records';
import { PIPEDRIVE_PROVIDER } from './http-facts';
import {
  connectorFieldName,
  requirePipedriveObject,
  toCrmRecord,
  toRequestBody,
  updateNeedsCurrent,
  type PipedriveApiRecord,
  type PipedriveContactItem,
  type PipedriveObjectName,
} from './objects';

/**
 * upsertBatch for Pipedrive, which has no batch write endpoint: each record is its own `POST`/`PATCH
 * /api/v2/{object}`, sent one after another (the engine decides how many port calls run at once), and the results
 * come back one per input in input order. A record Pipedrive rejects (400 validation, 404) fails alone with
 * Pipedrive's message and field; so does a record whose request got no answer (reset, timeout) — the engine retries
 * it later, and the e-mail lookup below makes that retry safe. Account-level failures (401, 403, 429, daily budget,
 * abort) stop the call and are thrown: no other record of the call could succeed.
 *
 * Creates never duplicate: Pipedrive has no upsert by a unique key, so a person without a crmId is first looked up by
 * e-mail (exact search) and updated when found — unless the caller has just done that look-up itself
 * (`createsMatched`), when the create is the only request: one per person instead of two. A create whose response
 * was lost becomes an update of the person it made when the engine retries it (a retry never sets the flag).
 * (Pipedrive's search index can lag a write by seconds; a retry sooner than that could still create a second
 * person — the engine's retry back-off is longer.) Two inputs of one call with one e-mail make one person: the later
 * updates the person the earlier created. Organizations and activities have no such key; they are created as given.
 */
export class PipedriveWriter {
  constructor(
    private readonly http: PipedriveHttpClient,
    private readonly options: { maxWriteBatch: number },
  ) {}

  async upsertBatch(session: CrmSession, request: UpsertBatchRequest): Promise<UpsertResult[]> {
    const object = requirePipedriveObject(request.object);
    if (request.records.length > this.options.maxWriteBatch) {
      throw new CrmError(
        CrmErrorCode.VALIDATION_FAILED,
        `A Pipedrive upsertBatch takes at most ${this.options.maxWriteBatch} records, got ${request.records.length}`,
        { provider: PIPEDRIVE_PROVIDER },
      );
    }
    const lookUpCreates = request.createsMatched !== true;
    const current = await this.currentOfUpdates(session, object, request.records);
    // Persons created earlier in this call, by e-mail: a later input with the e-mail updates that person.
    const createdByEmail = new Map<string, string>();
    const results: UpsertResult[] = [];
    for (const input of request.records) {
      const email = object === 'persons' && input.crmId === undefined ? emailOf(input.fields) : undefined;
      const result = await this.upsertOne(session, object, input, current, async () => {
        if (email === undefined) return undefined;
        const madeHere = createdByEmail.get(email);
        if (madeHere !== undefined || !lookUpCreates) return madeHere;
        // The person a create would duplicate: the lowest id holding the e-mail.
        const [first] = await searchPersonIdsByEmail(this.http, session, email);
        return first;
      });
      if (email !== undefined && result.ok && result.created) createdByEmail.set(email, result.crmId);
      results.push(result);
    }
    return results;
  }

  /**
   * The records updates must merge into (their other e-mails and phones, a name part not sent), read before the
   * writes with the list's `ids=` filter: one request per 100 updates instead of a GET before each PATCH.
   */
  private async currentOfUpdates(
    session: CrmSession,
    object: PipedriveObjectName,
    records: readonly UpsertInput[],
  ): Promise<Map<string, PipedriveApiRecord>> {
    const ids = records
      .filter((input) => input.crmId !== undefined && updateNeedsCurrent(object, input.fields))
      .map((input) => (input.crmId as string).trim())
      .filter((id) => PIPEDRIVE_ID.test(id));
    if (ids.length === 0) return new Map();
    const found = await listRecordsByIds(this.http, session, object, [...new Set(ids)]);
    return new Map(found.map((record) => [String(record.id), record]));
  }

  private async upsertOne(
    session: CrmSession,
    object: PipedriveObjectName,
    input: UpsertInput,
    currentById: ReadonlyMap<string, PipedriveApiRecord>,
    existingId: () => Promise<string | undefined>,
  ): Promise<UpsertResult> {
    try {
      const targetId = input.crmId ?? (await existingId());
      if (targetId !== undefined) {
        // Read with the batch; one the list did not return (a create that found its person by e-mail, a person
        // deleted meanwhile) is read alone, so a missing person fails with Pipedrive's own answer.
        const current = updateNeedsCurrent(object, input.fields)
          ? (currentById.get(targetId.trim()) ?? (await this.get(session, object, targetId)))
          : undefined;
        const saved = await this.http.api<PipedriveApiRecord>(session, {
          method: 'PATCH',
          path: `/api/v2/${object}/${encodeURIComponent(targetId)}`,
          body: toRequestBody(object, input.fields, current),
        });
        return this.success(object, input, saved.data, false);
      }
      const saved = await this.http.api<PipedriveApiRecord>(session, {
        method: 'POST',
        path: `/api/v2/${object}`,
        body: toRequestBody(object, input.fields),
      });
      return this.success(object, input, saved.data, true);
    } catch (error) {
      if (isAccountLevelError(error) || !(error instanceof CrmError)) throw error;
      return {
        key: input.key,
        ok: false,
        error: toRecordError(error, connectorFieldName(object, error.field)),
      };
    }
  }

  private async get(
    session: CrmSession,
    object: PipedriveObjectName,
    id: string,
  ): Promise<PipedriveApiRecord> {
    const response = await this.http.api<PipedriveApiRecord>(session, {
      method: 'GET',
      path: `/api/v2/${object}/${encodeURIComponent(id)}`,
    });
    return response.data;
  }

  private success(
    object: PipedriveObjectName,
    input: UpsertInput,
    saved: PipedriveApiRecord,
    created: boolean,
  ): UpsertResult {
    const record = toCrmRecord(object, saved);
    return { key: input.key, ok: true, crmId: record.id, created, modifiedAt: record.modifiedAt };
  }
}

/** The normalised primary e-mail of a person's input fields (`email`, or the primary of `emails[]`). */
function emailOf(fields: Record<string, unknown>): string | undefined {
  const email = normaliseEmail(fields.email);
  if (email !== undefined || !Array.isArray(fields.emails)) return email;
  const items = fields.emails as PipedriveContactItem[];
  return normaliseEmail((items.find((item) => item.primary) ?? items[0])?.value);
}
