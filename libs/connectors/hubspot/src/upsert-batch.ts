import { normaliseEmail, toUtcIso } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  type UpsertBatchRequest,
  type UpsertInput,
  type UpsertResult,
} from '@pm/integration-port';
import { runBatchIsolated, type BatchEntry, type BatchOutcome, type SdkBatchResult } from './batch-outcomes';
import type { HubSpotCall } from './client';
import { HUBSPOT_MAX_BATCH, HUBSPOT_PROVIDER, type HubSpotObjectInfo } from './config';
import { recordErrorFromCrmError } from './errors';
import { requireObject, toProperties } from './records';

interface WriteEntry extends BatchEntry {
  index: number;
  input: UpsertInput;
  properties: Record<string, string>;
}

/**
 * upsertBatch: at most 100 records in one to three batch calls: `batch/update` for records with a HubSpot id,
 * `batch/upsert` by e-mail (`idProperty: "email"`) for contacts without one, `batch/create` for the rest. A create
 * whose answer was lost and that is sent again cannot make a second contact: the upsert finds the first by its
 * e-mail and updates it (`new: false`). Companies and e-mails have no unique key HubSpot upserts on, so their
 * creates are not idempotent; the engine looks them up before retrying.
 */
export class HubSpotWriter {
  async upsertBatch(call: HubSpotCall, request: UpsertBatchRequest): Promise<UpsertResult[]> {
    const info = requireObject(request.object);
    if (request.records.length > HUBSPOT_MAX_BATCH) {
      throw new CrmError(
        CrmErrorCode.VALIDATION_FAILED,
        `A HubSpot batch takes at most ${HUBSPOT_MAX_BATCH} records, got ${request.records.length}`,
        { provider: HUBSPOT_PROVIDER },
      );
    }
    const results: Array<UpsertResult | undefined> = new Array(request.records.length);
    const updates: WriteEntry[] = [];
    const upserts: WriteEntry[] = [];
    const creates: WriteEntry[] = [];
    const emailsInBatch = new Set<string>();
    const emailField = info.capability.emailField;

    request.records.forEach((input, index) => {
      const traceId = String(index);
      let properties: Record<string, string>;
      try {
        properties = toProperties(input.fields);
      } catch (error) {
        if (!(error instanceof CrmError)) throw error;
        results[index] = { key: input.key, ok: false, error: recordErrorFromCrmError(error) };
        return;
      }
      if (input.crmId !== undefined) {
        updates.push({ index, traceId, input, properties, matchKey: input.crmId });
        return;
      }
      const email = emailField !== undefined ? normaliseEmail(input.fields[emailField]) : undefined;
      if (info.capability.upsertByEmail && email !== undefined) {
        // HubSpot refuses a whole upsert batch that names one e-mail twice.
        if (emailsInBatch.has(email)) {
          results[index] = {
            key: input.key,
            ok: false,
            error: {
              code: CrmErrorCode.DUPLICATE,
              message: `The e-mail ${email} appears more than once in this batch`,
              field: emailField,
            },
          };
          return;
        }
        emailsInBatch.add(email);
        upserts.push({ index, traceId, input, properties, matchKey: email });
        return;
      }
      creates.push({ index, traceId, input, properties });
    });

    const record = (
      entries: WriteEntry[],
      outcomes: Map<string, BatchOutcome>,
      created: (r: SdkBatchResult) => boolean,
    ) => {
      for (const entry of entries) {
        const outcome = outcomes.get(entry.traceId);
        results[entry.index] =
          outcome === undefined || !outcome.ok
            ? {
                key: entry.input.key,
                ok: false,
                error:
                  outcome?.ok === false
                    ? outcome.error
                    : { code: CrmErrorCode.UNKNOWN, message: 'No result' },
              }
            : {
                key: entry.input.key,
                ok: true,
                crmId: outcome.object.id,
                created: created(outcome.object),
                ...modifiedAtOf(info, outcome.object),
              };
      }
    };

    const object = info.capability.name;
    record(
      updates,
      await runBatchIsolated(
        updates,
        (entries) =>
          call.run(() =>
            call.objects.batchApi.update(
              object,
              {
                inputs: entries.map((entry) => ({
                  id: entry.input.crmId as string,
                  properties: entry.properties,
                  objectWriteTraceId: entry.traceId,
                })),
              },
              call.options,
            ),
          ),
        (result) => result.id,
      ),
      () => false,
    );
    record(
      upserts,
      await runBatchIsolated(
        upserts,
        (entries) =>
          call.run(() =>
            call.objects.batchApi.upsert(
              object,
              {
                inputs: entries.map((entry) => ({
                  id: entry.matchKey as string,
                  idProperty: emailField,
                  properties: entry.properties,
                  objectWriteTraceId: entry.traceId,
                })),
              },
              call.options,
            ),
          ),
        (result) => (emailField ? normaliseEmail(result.properties[emailField]) : undefined),
      ),
      (result) => result._new === true,
    );
    record(
      creates,
      await runBatchIsolated(
        creates,
        (entries) =>
          call.run(() =>
            call.objects.batchApi.create(
              object,
              {
                inputs: entries.map((entry) => ({
                  properties: entry.properties,
                  associations: [],
                  objectWriteTraceId: entry.traceId,
                })),
              },
              call.options,
            ),
          ),
        () => undefined,
      ),
      () => true,
    );
    return results.map(
      (result, index) =>
        result ?? {
          key: request.records[index].key,
          ok: false,
          error: { code: CrmErrorCode.UNKNOWN, message: 'No result' },
        },
    );
  }
}

function modifiedAtOf(info: HubSpotObjectInfo, object: SdkBatchResult): { modifiedAt?: string } {
  const value = object.properties?.[info.modifiedProperty] ?? object.updatedAt?.toISOString();
  return value ? { modifiedAt: toUtcIso(value) } : {};
}
