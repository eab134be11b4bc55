// Associations v4. Follows https://developers.hubspot.com/docs/api/crm/associations/v4:
// PUT /crm/v4/objects/{from}/{id}/associations/default/{to}/{toId} (200, BatchResponsePublicDefaultAssociation),
// PUT /crm/v4/objects/{from}/{id}/associations/{to}/{toId} with [{associationCategory, associationTypeId}] (201),
// GET /crm/v4/objects/{from}/{id}/associations/{to} (200, paged), DELETE … (204), and the batch endpoints under
// /crm/v4/associations/{from}/{to}/batch/{create,associate/default,read,archive}.
import type { Request } from 'express';
import { associationType, associationTypeLabel, defaultAssociationType } from './associations';
import { HubSpotApiError, notFoundError, validationError } from './errors';
import { HubSpotObjectType, OBJECT_TYPE_INFO, resolveObjectType } from './object-types';
import { bodyObject, isPlainObject, queryLimit, queryString } from './request-params';
import type { HubSpotRouteContext } from './route-context';
import { batchError, BatchError, batchResponse, nextPaging } from './shapes';

const PAGE_DEFAULT_LIMIT = 500;
const PAGE_MAX_LIMIT = 500;

function objectTypeParam(req: Request, name: string): HubSpotObjectType {
  const raw = String(req.params[name] ?? '');
  const objectType = resolveObjectType(raw);
  if (!objectType) throw validationError(`Unable to infer object type from: ${raw}`);
  return objectType;
}

function idOf(value: unknown): string | undefined {
  if (isPlainObject(value) && (typeof value.id === 'string' || typeof value.id === 'number'))
    return String(value.id);
  return undefined;
}

export function registerAssociationRoutes(context: HubSpotRouteContext): void {
  const { server, portal } = context;

  function requireRecord(objectType: HubSpotObjectType, id: string): void {
    if (!portal.get(objectType, id)) {
      throw notFoundError(`No ${OBJECT_TYPE_INFO[objectType].singular} with id ${id} exists`, {
        context: { id: [id] },
      });
    }
  }

  function createDefault(
    fromType: HubSpotObjectType,
    fromId: string,
    toType: HubSpotObjectType,
    toId: string,
  ) {
    const definition = defaultAssociationType(fromType, toType);
    if (!definition) throw validationError(`No default association between ${fromType} and ${toType}`);
    requireRecord(fromType, fromId);
    requireRecord(toType, toId);
    portal.associations.add(fromType, fromId, toType, toId, definition.typeId);
    return [
      {
        from: { id: fromId },
        to: { id: toId },
        associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: definition.typeId },
      },
      {
        from: { id: toId },
        to: { id: fromId },
        associationSpec: {
          associationCategory: 'HUBSPOT_DEFINED',
          associationTypeId: definition.inverseTypeId,
        },
      },
    ];
  }

  function createLabeled(
    fromType: HubSpotObjectType,
    fromId: string,
    toType: HubSpotObjectType,
    toId: string,
    specs: unknown,
  ) {
    if (!Array.isArray(specs) || specs.length === 0)
      throw validationError('At least one association type is required');
    requireRecord(fromType, fromId);
    requireRecord(toType, toId);
    for (const spec of specs) {
      const typeId = isPlainObject(spec) ? Number(spec.associationTypeId) : NaN;
      const definition = associationType(fromType, typeId);
      if (!definition || definition.to !== toType) {
        throw validationError(
          `${String(typeId)} is not a valid association type between ${fromType} and ${toType}`,
        );
      }
      portal.associations.add(fromType, fromId, toType, toId, typeId);
    }
    const edge = portal.associations
      .list(fromType, fromId, toType)
      .find((candidate) => candidate.toId === toId);
    return {
      fromObjectTypeId: OBJECT_TYPE_INFO[fromType].objectTypeId,
      fromObjectId: Number(fromId),
      toObjectTypeId: OBJECT_TYPE_INFO[toType].objectTypeId,
      toObjectId: Number(toId),
      labels: (edge?.typeIds ?? [])
        .map((typeId) => associationType(fromType, typeId)?.label)
        .filter((label): label is string => typeof label === 'string'),
    };
  }

  function associatedObjects(fromType: HubSpotObjectType, fromId: string, toType: HubSpotObjectType) {
    return portal.associations.list(fromType, fromId, toType).map((edge) => ({
      toObjectId: Number(edge.toId),
      associationTypes: edge.typeIds.map((typeId) => associationTypeLabel(fromType, typeId)),
    }));
  }

  // PUT /crm/v4/objects/{fromObjectType}/{fromObjectId}/associations/default/{toObjectType}/{toObjectId}
  server.put(
    '/crm/v4/objects/:fromObjectType/:fromObjectId/associations/default/:toObjectType/:toObjectId',
    context.authenticated,
    (req, res) => {
      const startedAt = server.clock.now();
      const results = createDefault(
        objectTypeParam(req, 'fromObjectType'),
        String(req.params.fromObjectId),
        objectTypeParam(req, 'toObjectType'),
        String(req.params.toObjectId),
      );
      res.json(batchResponse(results, [], startedAt, server.clock.now()).body);
    },
  );

  // PUT /crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId} with a list of types
  server.put(
    '/crm/v4/objects/:objectType/:objectId/associations/:toObjectType/:toObjectId',
    context.authenticated,
    (req, res) => {
      const result = createLabeled(
        objectTypeParam(req, 'objectType'),
        String(req.params.objectId),
        objectTypeParam(req, 'toObjectType'),
        String(req.params.toObjectId),
        req.body,
      );
      res.status(201).json(result);
    },
  );

  // GET /crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType} — `after` is an offset.
  server.get(
    '/crm/v4/objects/:objectType/:objectId/associations/:toObjectType',
    context.authenticated,
    (req, res) => {
      const fromType = objectTypeParam(req, 'objectType');
      const toType = objectTypeParam(req, 'toObjectType');
      const fromId = String(req.params.objectId);
      const limit = queryLimit(req, PAGE_DEFAULT_LIMIT, PAGE_MAX_LIMIT);
      const offset = Number(queryString(req, 'after') ?? '0') || 0;
      const all = associatedObjects(fromType, fromId, toType);
      const end = offset + limit;
      res.json({
        results: all.slice(offset, end),
        ...(end < all.length ? { paging: nextPaging(server.baseUrl, req.path, String(end)) } : {}),
      });
    },
  );

  // DELETE /crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}
  server.delete(
    '/crm/v4/objects/:objectType/:objectId/associations/:toObjectType/:toObjectId',
    context.authenticated,
    (req, res) => {
      portal.associations.remove(
        objectTypeParam(req, 'objectType'),
        String(req.params.objectId),
        objectTypeParam(req, 'toObjectType'),
        String(req.params.toObjectId),
      );
      res.status(204).end();
    },
  );

  function batchInputs(req: Request): Array<Record<string, unknown>> {
    const inputs = bodyObject(req).inputs;
    if (!Array.isArray(inputs)) throw validationError('inputs is required and must be an array');
    if (inputs.length > context.maxBatchInputs * 10) {
      throw validationError(
        `Batch input size ${inputs.length} exceeds the maximum of ${context.maxBatchInputs * 10}.`,
      );
    }
    return inputs.filter(isPlainObject);
  }

  /** Runs one write per input, collecting HubSpot errors into a 207 like the object batch endpoints. */
  function perInput<T>(
    inputs: Array<Record<string, unknown>>,
    write: (input: Record<string, unknown>) => T[],
  ) {
    const results: T[] = [];
    const errors: BatchError[] = [];
    for (const input of inputs) {
      try {
        results.push(...write(input));
      } catch (error) {
        if (!(error instanceof HubSpotApiError)) throw error;
        errors.push(batchError(error.body));
      }
    }
    return { results, errors };
  }

  // POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create (201, or 207)
  server.post(
    '/crm/v4/associations/:fromObjectType/:toObjectType/batch/create',
    context.authenticated,
    (req, res) => {
      const fromType = objectTypeParam(req, 'fromObjectType');
      const toType = objectTypeParam(req, 'toObjectType');
      const startedAt = server.clock.now();
      const { results, errors } = perInput(batchInputs(req), (input) => [
        createLabeled(fromType, idOf(input.from) ?? '', toType, idOf(input.to) ?? '', input.types),
      ]);
      const { httpStatus, body } = batchResponse(results, errors, startedAt, server.clock.now());
      res.status(httpStatus ?? 201).json(body);
    },
  );

  // POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/associate/default (200)
  server.post(
    '/crm/v4/associations/:fromObjectType/:toObjectType/batch/associate/default',
    context.authenticated,
    (req, res) => {
      const fromType = objectTypeParam(req, 'fromObjectType');
      const toType = objectTypeParam(req, 'toObjectType');
      const startedAt = server.clock.now();
      const { results, errors } = perInput(batchInputs(req), (input) =>
        createDefault(fromType, idOf(input.from) ?? '', toType, idOf(input.to) ?? ''),
      );
      // This endpoint answers 200 even with failures; its model (BatchResponsePublicDefaultAssociation) has errors.
      res.status(200).json(batchResponse(results, errors, startedAt, server.clock.now()).body);
    },
  );

  // POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read (200, or 207 for unknown records)
  server.post(
    '/crm/v4/associations/:fromObjectType/:toObjectType/batch/read',
    context.authenticated,
    (req, res) => {
      const fromType = objectTypeParam(req, 'fromObjectType');
      const toType = objectTypeParam(req, 'toObjectType');
      const startedAt = server.clock.now();
      const { results, errors } = perInput(batchInputs(req), (input) => {
        const fromId = String(input.id ?? '');
        requireRecord(fromType, fromId);
        return [{ from: { id: fromId }, to: associatedObjects(fromType, fromId, toType) }];
      });
      const { httpStatus, body } = batchResponse(results, errors, startedAt, server.clock.now());
      res.status(httpStatus ?? 200).json(body);
    },
  );

  // POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/archive (204)
  server.post(
    '/crm/v4/associations/:fromObjectType/:toObjectType/batch/archive',
    context.authenticated,
    (req, res) => {
      const fromType = objectTypeParam(req, 'fromObjectType');
      const toType = objectTypeParam(req, 'toObjectType');
      for (const input of batchInputs(req)) {
        const fromId = idOf(input.from) ?? '';
        const targets = Array.isArray(input.to) ? input.to : [input.to];
        for (const target of targets)
          portal.associations.remove(fromType, fromId, toType, idOf(target) ?? '');
      }
      res.status(204).end();
    },
  );
}
