import {
  CrmError,
  CrmErrorCode,
  type CrmSession,
  type UpsertBatchRequest,
  type UpsertInput,
  type UpsertResult,
} from '@pm/integration-port';
import { mapWithConcurrency } from './concurrency';
import { isAccountLevelError, toRecordError } from './errors';
import { searchPersonIdsByEmail } from './find-by-email';
import type { PipedriveHttpClient } from './client';
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
 * /api/v2/{object}`, run with at most `maxConcurrency` in flight inside the one call, and the results come back one
 * per input in input order. A record Pipedrive rejects (400 validation, 404) fails alone with Pipedrive's message
 * and field; so does a record whose request got no answer (reset, timeout) — the engine retries it later, and the
 * e-mail lookup below makes that retry safe. Account-level failures (401, 403, 429, daily budget, abort) stop new
 * requests and throw once the ones in flight have finished: no other record of the call could succeed.
 *
 * Creates never duplicate: Pipedrive has no upsert by a unique key, so a person without a crmId is first looked up by
 * e-mail (exact search) and updated when found. A create whose response was lost therefore becomes an update of the
 * person it made when the engine retries it. (Pipedrive's search index can lag a write by seconds; a retry sooner
 * than that could still create a second person — the engine's retry back-off is longer.) Organizations and
 * activities have no such key; they are created as given.
 */
export class PipedriveWriter {
  constructor(
    private readonly http: PipedriveHttpClient,
    private readonly options: { maxWriteBatch: number; maxConcurrency: number },
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
    // Creates of one e-mail within the call run one after the other, so the second finds the person the first made.
    const byEmail = new Map<string, Promise<UpsertResult>>();
    return mapWithConcurrency(
      request.records,
      this.options.maxConcurrency,
      (input) => {
        const email = object === 'persons' && input.crmId === undefined ? emailOf(input.fields) : undefined;
        if (email === undefined) return this.upsertOne(session, object, input);
        const previous = byEmail.get(email.toLowerCase());
        const write = (previous ?? Promise.resolve())
          .catch(() => undefined)
          .then(() => this.upsertOne(session, object, input));
        byEmail.set(email.toLowerCase(), write);
        return write;
      },
      isAccountLevelError,
    );
  }

  private async upsertOne(
    session: CrmSession,
    object: PipedriveObjectName,
    input: UpsertInput,
  ): Promise<UpsertResult> {
    try {
      const targetId = input.crmId ?? (await this.existingIdByEmail(session, object, input));
      if (targetId !== undefined) {
        const current = updateNeedsCurrent(object, input.fields)
          ? await this.get(session, object, targetId)
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

  /** The person a create would duplicate: the lowest id holding the input's e-mail. */
  private async existingIdByEmail(
    session: CrmSession,
    object: PipedriveObjectName,
    input: UpsertInput,
  ): Promise<string | undefined> {
    if (object !== 'persons') return undefined;
    const email = emailOf(input.fields);
    if (email === undefined) return undefined;
    const [first] = await searchPersonIdsByEmail(this.http, session, email);
    return first;
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

function emailOf(fields: Record<string, unknown>): string | undefined {
  if (typeof fields.email === 'string' && fields.email.trim() !== '') return fields.email.trim();
  if (Array.isArray(fields.emails)) {
    const items = fields.emails as PipedriveContactItem[];
    const value = (items.find((item) => item.primary) ?? items[0])?.value;
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
  }
  return undefined;
}
