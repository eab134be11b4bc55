import type { ReadAssociationsRequest } from '@pm/integration-port';
import { readHubSpotAssociationIds } from './associations';
import type { HubSpotCall } from './client';
import { requireObject } from './records';

/**
 * readAssociations: `POST /crm/v4/associations/{from}/{to}/batch/read`, 1,000 ids a request. Search pages carry no
 * associations, so the engine reads them here for several pages at once (a change read of 1,000 contacts: one
 * request, where a read per 200-record page made five).
 */
export function readHubSpotAssociations(
  call: HubSpotCall,
  request: ReadAssociationsRequest,
): Promise<Record<string, string[]>> {
  const from = requireObject(request.object).capability.name;
  const to = requireObject(request.toObject).capability.name;
  return readHubSpotAssociationIds(call, from, to, request.ids);
}
