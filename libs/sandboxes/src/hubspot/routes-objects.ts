// CRM v3 object routes for contacts, companies and emails: basic (list, get, create, update, archive), batch
// (read, create, update, upsert, archive) and search.
// Follows https://developers.hubspot.com/docs/api/crm/contacts (same shape for /companies and /emails, see
// https://developers.hubspot.com/docs/api/crm/email) and https://developers.hubspot.com/docs/api/crm/search.
import type { Request, Response } from 'express';
import { associationType } from './associations';
import {
  HubSpotApiError,
  notFoundError,
  propertyValueError,
  propertyValuesError,
  validationError,
} from './errors';
import { HUBSPOT_OBJECT_TYPES, HubSpotObjectType, OBJECT_TYPE_INFO } from './object-types';
import type { HubSpotRecord, PropertyInput } from './portal';
import {
  bodyObject,
  isPlainObject,
  queryBoolean,
  queryLimit,
  queryList,
  queryString,
  stringList,
} from './request-params';
import type { HubSpotRouteContext } from './route-context';
import { parseSearchRequest, pinnedValues, runSearch } from './search';
import {
  batchError,
  BatchError,
  batchResponse,
  nextPaging,
  SimplePublicObject,
  toSimplePublicObject,
  withAssociations,
} from './shapes';

const LIST_DEFAULT_LIMIT = 10;
const LIST_MAX_LIMIT = 100;

/** Text properties the free-text search `query` looks at, per object type. */
const QUERY_PROPERTIES: Record<HubSpotObjectType, string[]> = {
  contacts: ['firstname', 'lastname', 'email', 'phone', 'company', 'website'],
  companies: ['name', 'domain', 'website', 'phone'],
  emails: ['hs_email_subject', 'hs_email_text'],
};

interface InlineAssociation {
  toType: HubSpotObjectType;
  toId: string;
  typeId: number;
}

function readProperties(input: Record<string, unknown>): PropertyInput {
  const raw = input.properties;
  if (raw === undefined) return {};
  if (!isPlainObject(raw)) throw validationError('properties must be an object of property names to values');
  const properties: PropertyInput = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) {
      properties[name] = value as string | number | boolean | null;
    } else {
      throw propertyValuesError([propertyValueError(name, 'INVALID_VALUE', `${name} must be a string`)]);
    }
  }
  return properties;
}

function traceIdOf(input: Record<string, unknown>): string | undefined {
  return typeof input.objectWriteTraceId === 'string' ? input.objectWriteTraceId : undefined;
}

export function registerObjectRoutes(context: HubSpotRouteContext): void {
  for (const objectType of HUBSPOT_OBJECT_TYPES) registerObjectType(context, objectType);
}

function registerObjectType(context: HubSpotRouteContext, objectType: HubSpotObjectType): void {
  const { server, portal, faults } = context;
  const info = OBJECT_TYPE_INFO[objectType];
  const base = `/crm/v3/objects/${objectType}`;
  const read = context.requireScope(`crm.objects.${objectType}.read`);
  const write = context.requireScope(`crm.objects.${objectType}.write`);
  const propertyType = (name: string) => portal.properties.get(objectType, name)?.type;

  /** Validation plus any per-record fault the test queued, as one HubSpot 400. */
  function checkWrite(
    input: Record<string, unknown>,
    mode: 'create' | 'update',
  ): Record<string, string | null> {
    const properties = portal.validateProperties(objectType, readProperties(input), mode);
    const injected = faults.recordError(objectType, input);
    if (injected) {
      const field = injected.field?.replace(/^properties\./, '');
      throw field
        ? propertyValuesError([propertyValueError(field, injected.code ?? 'INVALID_VALUE', injected.message)])
        : validationError(injected.message);
    }
    return properties;
  }

  function readAssociations(input: Record<string, unknown>): InlineAssociation[] {
    const raw = input.associations;
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) throw validationError('associations must be an array');
    const result: InlineAssociation[] = [];
    for (const entry of raw) {
      const toId = isPlainObject(entry) && isPlainObject(entry.to) ? entry.to.id : undefined;
      const types = isPlainObject(entry) && Array.isArray(entry.types) ? entry.types : [];
      if (typeof toId !== 'string' && typeof toId !== 'number')
        throw validationError('association is missing to.id');
      for (const type of types) {
        const typeId = isPlainObject(type) ? Number(type.associationTypeId) : NaN;
        const definition = associationType(objectType, typeId);
        if (!definition) {
          throw validationError(`${String(typeId)} is not a valid association type id for ${info.singular}`);
        }
        if (!portal.get(definition.to, String(toId))) {
          throw validationError(
            `One or more associations are invalid: ${OBJECT_TYPE_INFO[definition.to].errorName}=${String(toId)} does not exist`,
          );
        }
        result.push({ toType: definition.to, toId: String(toId), typeId });
      }
    }
    return result;
  }

  function createOne(input: Record<string, unknown>): HubSpotRecord {
    const properties = checkWrite(input, 'create');
    const associations = readAssociations(input);
    const record = portal.create(objectType, properties, 'INTEGRATION');
    for (const association of associations) {
      portal.associations.add(
        objectType,
        record.id,
        association.toType,
        association.toId,
        association.typeId,
      );
    }
    return record;
  }

  function updateOne(
    idOrValue: string,
    idProperty: string | undefined,
    input: Record<string, unknown>,
  ): HubSpotRecord {
    const existing = portal.find(objectType, idOrValue, idProperty);
    if (!existing) throw notFoundError('resource not found', { context: { id: [idOrValue] } });
    const properties = checkWrite(input, 'update');
    return portal.update(objectType, existing.id, properties, 'INTEGRATION');
  }

  function shape(record: HubSpotRecord, req: Request, properties: string[] | undefined): SimplePublicObject {
    const shaped = toSimplePublicObject(record, properties);
    const associationTypes = queryList(req, 'associations');
    return associationTypes
      ? withAssociations(shaped, record, associationTypes, portal.associations)
      : shaped;
  }

  function inputsOf(body: Record<string, unknown>): Array<Record<string, unknown>> {
    const inputs = body.inputs;
    if (!Array.isArray(inputs)) throw validationError('inputs is required and must be an array');
    if (inputs.length > context.maxBatchInputs) {
      throw validationError(
        `Batch input size ${inputs.length} exceeds the maximum of ${context.maxBatchInputs} inputs per request.`,
        { context: { inputs: [String(inputs.length)] } },
      );
    }
    return inputs.map((input) => {
      if (!isPlainObject(input)) throw validationError('Each input must be an object');
      return input;
    });
  }

  /**
   * Runs `write` per input. Per-record mode reports failures in a 207; whole-batch mode refuses the batch with the
   * first failure's 400 when any input fails validation (checked before anything is written).
   */
  function runBatch<T>(
    inputs: Array<Record<string, unknown>>,
    validate: (input: Record<string, unknown>) => void,
    write: (input: Record<string, unknown>) => T,
    res: Response,
    successStatus: number,
  ): void {
    const startedAt = server.clock.now();
    if (context.batchValidation === 'whole-batch') inputs.forEach(validate);
    const results: T[] = [];
    const errors: BatchError[] = [];
    for (const input of inputs) {
      try {
        results.push(write(input));
      } catch (error) {
        if (!(error instanceof HubSpotApiError)) throw error;
        const traceId = traceIdOf(input);
        errors.push(batchError(error.body, traceId ? { objectWriteTraceId: [traceId] } : {}));
      }
    }
    const { httpStatus, body } = batchResponse(results, errors, startedAt, server.clock.now());
    res.status(httpStatus ?? successStatus).json(body);
  }

  // GET /crm/v3/objects/{objectType} — list, ordered by id, `after` is the id to start from.
  server.get(base, context.authenticated, read, (req, res) => {
    const limit = queryLimit(req, LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT);
    const after = queryString(req, 'after');
    const afterId = after === undefined || after === '' ? undefined : Number(after);
    if (afterId !== undefined && !Number.isFinite(afterId)) throw validationError(`Invalid after: ${after}`);
    const properties = queryList(req, 'properties');
    const source = queryBoolean(req, 'archived')
      ? portal.archived(objectType)
      : portal.store(objectType).all();
    const page: HubSpotRecord[] = [];
    let next: HubSpotRecord | undefined;
    for (const record of source) {
      if (afterId !== undefined && Number(record.id) < afterId) continue;
      if (page.length === limit) {
        next = record;
        break;
      }
      page.push(record);
    }
    res.json({
      results: page.map((record) => shape(record, req, properties)),
      ...(next ? { paging: nextPaging(server.baseUrl, base, next.id) } : {}),
    });
  });

  // POST /crm/v3/objects/{objectType} — create one (201).
  server.post(base, context.authenticated, write, (req, res) => {
    const record = createOne(bodyObject(req));
    res.status(201).json(toSimplePublicObject(record, undefined, { includeAllSet: true }));
  });

  // POST /crm/v3/objects/{objectType}/search — searches have their own per-second limit.
  server.post(`${base}/search`, context.authenticatedSearch, read, (req, res) => {
    const request = parseSearchRequest(bodyObject(req), propertyType);
    // Start from the records an EQ/IN filter pins each group to (from the property's index), else from all.
    const pins = pinnedValues(request, propertyType);
    const candidates =
      pins === undefined
        ? portal.store(objectType).all()
        : [
            ...new Map(
              pins
                .flatMap((pin) => portal.recordsWithValues(objectType, pin.propertyName, pin.keys))
                .map((record) => [record.id, record]),
            ).values(),
          ];
    const page = runSearch(candidates, request, propertyType, QUERY_PROPERTIES[objectType]);
    res.json({
      total: page.total,
      results: page.results.map((record) => toSimplePublicObject(record, request.properties)),
      ...(page.nextAfter !== undefined
        ? { paging: nextPaging(server.baseUrl, `${base}/search`, page.nextAfter) }
        : {}),
    });
  });

  // POST /crm/v3/objects/{objectType}/batch/read
  server.post(`${base}/batch/read`, context.authenticated, read, (req, res) => {
    const body = bodyObject(req);
    const inputs = inputsOf(body);
    const idProperty = typeof body.idProperty === 'string' ? body.idProperty : undefined;
    const properties = stringList(body.properties);
    const startedAt = server.clock.now();
    const archived = queryBoolean(req, 'archived');
    const results: SimplePublicObject[] = [];
    const missing: string[] = [];
    for (const input of inputs) {
      const id = String(input.id ?? '');
      const record = archived
        ? portal.archived(objectType).find((candidate) => candidate.id === id)
        : portal.find(objectType, id, idProperty);
      if (record) results.push(toSimplePublicObject(record, properties));
      else missing.push(id);
    }
    const errors: BatchError[] = missing.length
      ? [
          {
            status: 'error',
            category: 'OBJECT_NOT_FOUND',
            message: `Could not get some ${info.errorName} objects, they may be deleted or not exist. Check that ids are valid.`,
            context: { ids: missing },
          },
        ]
      : [];
    const { httpStatus, body: responseBody } = batchResponse(results, errors, startedAt, server.clock.now());
    res.status(httpStatus ?? 200).json(responseBody);
  });

  // POST /crm/v3/objects/{objectType}/batch/create (201, or 207 with per-record errors)
  server.post(`${base}/batch/create`, context.authenticated, write, (req, res) => {
    const inputs = inputsOf(bodyObject(req));
    runBatch(
      inputs,
      (input) => {
        checkWrite(input, 'create');
        readAssociations(input);
      },
      (input) =>
        toSimplePublicObject(createOne(input), undefined, {
          includeAllSet: true,
          objectWriteTraceId: traceIdOf(input),
        }),
      res,
      201,
    );
  });

  // POST /crm/v3/objects/{objectType}/batch/update (200, or 207)
  server.post(`${base}/batch/update`, context.authenticated, write, (req, res) => {
    const inputs = inputsOf(bodyObject(req));
    runBatch(
      inputs,
      (input) => checkWrite(input, 'update'),
      (input) => {
        const idProperty = typeof input.idProperty === 'string' ? input.idProperty : undefined;
        const record = updateOne(String(input.id ?? ''), idProperty, input);
        return toSimplePublicObject(record, undefined, {
          includeAllSet: true,
          objectWriteTraceId: traceIdOf(input),
        });
      },
      res,
      200,
    );
  });

  // POST /crm/v3/objects/{objectType}/batch/upsert — by a unique property (email for contacts); results carry `new`.
  server.post(`${base}/batch/upsert`, context.authenticated, write, (req, res) => {
    const inputs = inputsOf(bodyObject(req));
    const seen = new Set<string>();
    for (const input of inputs) {
      const idProperty = typeof input.idProperty === 'string' ? input.idProperty : undefined;
      if (!idProperty || !portal.properties.isIdProperty(objectType, idProperty)) {
        throw validationError(
          `idProperty ${String(idProperty)} is not a unique identifier property for ${objectType}; upsert requires one.`,
        );
      }
      const key = `${idProperty}:${String(input.id ?? '').toLowerCase()}`;
      if (seen.has(key)) throw validationError(`Duplicate IDs found in batch input: ${String(input.id)}`);
      seen.add(key);
    }
    runBatch(
      inputs,
      (input) => checkWrite(input, 'update'),
      (input) => {
        const idProperty = String(input.idProperty);
        const id = String(input.id ?? '');
        const existing = portal.find(objectType, id, idProperty);
        if (existing) {
          const record = portal.update(objectType, existing.id, checkWrite(input, 'update'), 'INTEGRATION');
          return { ...toSimplePublicObject(record, undefined, { includeAllSet: true }), new: false };
        }
        const withId = { ...input, properties: { ...readProperties(input), [idProperty]: id } };
        const record = portal.create(objectType, checkWrite(withId, 'create'), 'INTEGRATION');
        return { ...toSimplePublicObject(record, undefined, { includeAllSet: true }), new: true };
      },
      res,
      200,
    );
  });

  // POST /crm/v3/objects/{objectType}/batch/archive (204)
  server.post(`${base}/batch/archive`, context.authenticated, write, (req, res) => {
    for (const input of inputsOf(bodyObject(req)))
      portal.archive(objectType, String(input.id ?? ''), 'INTEGRATION');
    res.status(204).end();
  });

  // GET /crm/v3/objects/{objectType}/{id} — by id or `idProperty`.
  server.get(`${base}/:objectId`, context.authenticated, read, (req, res) => {
    const objectId = String(req.params.objectId);
    const idProperty = queryString(req, 'idProperty');
    const record = queryBoolean(req, 'archived')
      ? portal.archived(objectType).find((candidate) => candidate.id === objectId)
      : portal.find(objectType, objectId, idProperty);
    if (!record) throw notFoundError('resource not found', { context: { id: [objectId] } });
    res.json(shape(record, req, queryList(req, 'properties')));
  });

  // PATCH /crm/v3/objects/{objectType}/{id}
  server.patch(`${base}/:objectId`, context.authenticated, write, (req, res) => {
    const record = updateOne(String(req.params.objectId), queryString(req, 'idProperty'), bodyObject(req));
    res.json(toSimplePublicObject(record, undefined, { includeAllSet: true }));
  });

  // DELETE /crm/v3/objects/{objectType}/{id} — moves the record to the recycle bin (204 even when unknown).
  server.delete(`${base}/:objectId`, context.authenticated, write, (req, res) => {
    portal.archive(objectType, String(req.params.objectId), 'INTEGRATION');
    res.status(204).end();
  });
}
