// Response bodies in HubSpot's CRM v3 shapes (SimplePublicObject, batch responses, paging), as the SDK's models
// (node_modules/@hubspot/api-client/lib/codegen/crm/*/models) read them.
// Follows https://developers.hubspot.com/docs/api/crm/contacts and …/companies, …/engagements/email.
import { AssociationStore, v3AssociationName } from './associations';
import type { HubSpotErrorBody } from './errors';
import { OBJECT_TYPE_INFO, resolveObjectType } from './object-types';
import type { HubSpotRecord } from './portal';

export interface SimplePublicObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
  objectWriteTraceId?: string;
  associations?: Record<string, { results: Array<{ id: string; type: string }> }>;
  new?: boolean;
}

/**
 * The record with the requested properties; unset requested properties come back as null, as in HubSpot.
 * Without a property list the object type's default properties are returned.
 */
export function toSimplePublicObject(
  record: HubSpotRecord,
  requested: readonly string[] | undefined,
  extra: { includeAllSet?: boolean; objectWriteTraceId?: string } = {},
): SimplePublicObject {
  const names =
    requested && requested.length > 0 ? requested : OBJECT_TYPE_INFO[record.objectType].defaultProperties;
  const properties: Record<string, string | null> = {};
  for (const name of names) properties[name] = record.properties[name] ?? null;
  // Write responses echo every value that is set, like HubSpot's create/update responses do.
  if (extra.includeAllSet) Object.assign(properties, record.properties);
  return {
    id: record.id,
    properties,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    archived: record.archived,
    ...(record.archivedAt ? { archivedAt: record.archivedAt } : {}),
    ...(extra.objectWriteTraceId ? { objectWriteTraceId: extra.objectWriteTraceId } : {}),
  };
}

/** Adds the v3 `associations` block (`?associations=companies`) to a shaped record. */
export function withAssociations(
  shaped: SimplePublicObject,
  record: HubSpotRecord,
  associationTypes: readonly string[],
  associations: AssociationStore,
): SimplePublicObject {
  const block: NonNullable<SimplePublicObject['associations']> = {};
  for (const rawType of associationTypes) {
    const toType = resolveObjectType(rawType);
    if (!toType) continue;
    const results = associations
      .list(record.objectType, record.id, toType)
      .flatMap((edge) =>
        edge.typeIds.map((typeId) => ({ id: edge.toId, type: v3AssociationName(record.objectType, typeId) })),
      );
    if (results.length > 0) block[toType] = { results };
  }
  return Object.keys(block).length > 0 ? { ...shaped, associations: block } : shaped;
}

/** A per-record error inside a batch response (StandardError in the SDK). */
export interface BatchError {
  status: 'error';
  category: string;
  message: string;
  context?: Record<string, string[]>;
  errors?: HubSpotErrorBody['errors'];
  subCategory?: string;
}

export function batchError(body: HubSpotErrorBody, context: Record<string, string[]> = {}): BatchError {
  const mergedContext = { ...(body.context ?? {}), ...context };
  return {
    status: 'error',
    category: body.category ?? 'VALIDATION_ERROR',
    message: body.message,
    ...(Object.keys(mergedContext).length > 0 ? { context: mergedContext } : {}),
    ...(body.errors ? { errors: body.errors } : {}),
  };
}

export interface BatchResponse<T> {
  status: 'COMPLETE';
  results: T[];
  startedAt: string;
  completedAt: string;
  errors?: BatchError[];
  numErrors?: number;
}

/** The batch response; with errors it is the 207 "multi-status" variant with `errors` and `numErrors`. */
export function batchResponse<T>(
  results: T[],
  errors: BatchError[],
  startedAt: Date,
  completedAt: Date,
): { httpStatus: number | undefined; body: BatchResponse<T> } {
  const body: BatchResponse<T> = {
    status: 'COMPLETE',
    results,
    startedAt: startedAt.toISOString(),
    completedAt: completedAt.toISOString(),
  };
  if (errors.length === 0) return { httpStatus: undefined, body };
  return { httpStatus: 207, body: { ...body, numErrors: errors.length, errors } };
}

/** `paging.next` for list endpoints: `{after, link}`. */
export function nextPaging(
  baseUrl: string,
  path: string,
  after: string,
): { next: { after: string; link: string } } {
  return { next: { after, link: `${baseUrl}${path}?after=${encodeURIComponent(after)}` } };
}
