// Merging two records as HubSpot does (https://developers.hubspot.com/docs/api/crm/contacts#merge-contacts): the
// primary keeps its id and its values, takes the values it lacks from the merged record, and the merged record
// leaves (its id no longer answers a read). Subscribers hear one `<object>.merge` event naming both.
import { notFoundError, validationError } from './errors';
import { HUBSPOT_OBJECT_TYPES, type HubSpotObjectType } from './object-types';
import type { ChangeSource, HubSpotPortal, HubSpotRecord } from './portal';
import { bodyObject } from './request-params';
import type { HubSpotRouteContext } from './route-context';
import { toSimplePublicObject } from './shapes';

export function mergeRecords(
  portal: HubSpotPortal,
  objectType: HubSpotObjectType,
  primaryId: string,
  mergedId: string,
  source: ChangeSource,
  at: Date,
): HubSpotRecord {
  if (primaryId === mergedId) throw validationError('A record cannot be merged into itself');
  const primary = portal.get(objectType, primaryId);
  const merged = portal.get(objectType, mergedId);
  if (!primary || !merged) throw notFoundError(`No ${objectType} ${primary ? mergedId : primaryId} to merge`);
  const moved: Record<string, string> = {};
  for (const [name, value] of Object.entries(merged.properties)) {
    const definition = portal.properties.get(objectType, name);
    if (!definition || definition.modificationMetadata?.readOnlyValue) continue;
    if (value && !primary.properties[name]) moved[name] = value;
  }
  // The merged record goes first, so its unique values (the e-mail) may move to the primary.
  portal.archive(objectType, mergedId, source, at, { silent: true });
  const record =
    Object.keys(moved).length > 0 ? portal.update(objectType, primaryId, moved, source, at) : primary;
  portal.notify({
    kind: 'merge',
    objectType,
    record,
    changedProperties: Object.keys(moved),
    source,
    occurredAt: at,
    mergedIds: [mergedId],
  });
  return record;
}

/** `POST /crm/v3/objects/{objectType}/merge {primaryObjectId, objectIdToMerge}`. */
export function registerMergeRoutes(context: HubSpotRouteContext): void {
  for (const objectType of HUBSPOT_OBJECT_TYPES) {
    const write = context.requireScope(`crm.objects.${objectType}.write`);
    context.server.post(`/crm/v3/objects/${objectType}/merge`, context.authenticated, write, (req, res) => {
      const body = bodyObject(req);
      const primaryId = body.primaryObjectId;
      const mergedId = body.objectIdToMerge;
      if (typeof primaryId !== 'string' || typeof mergedId !== 'string' || !primaryId || !mergedId) {
        throw validationError('primaryObjectId and objectIdToMerge are required strings');
      }
      const record = mergeRecords(
        context.portal,
        objectType,
        primaryId,
        mergedId,
        'INTEGRATION',
        context.server.clock.now(),
      );
      res.json(toSimplePublicObject(record, undefined, { includeAllSet: true }));
    });
  }
}
