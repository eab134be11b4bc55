import type { IdPage, ListIdsRequest } from '@pm/integration-port';
import type { HubSpotCall } from './client';
import { HUBSPOT_MAX_LIST_PAGE } from './config';
import { requireObject, toCrmRecord } from './records';

/**
 * listIds: `GET /crm/v3/objects/{type}?limit=100&after=…&properties=<modified>&archived=false`, the CRM's plain
 * listing (no search: it has no 10,000 cap and no index lag), asking for the modification property alone. The
 * listing cannot filter by time, so `modifiedSince` is applied to each page here; HubSpot's `after` is the token.
 */
export async function listHubSpotIds(call: HubSpotCall, request: ListIdsRequest): Promise<IdPage> {
  const info = requireObject(request.object);
  const limit = Math.max(1, Math.min(request.pageSize ?? HUBSPOT_MAX_LIST_PAGE, HUBSPOT_MAX_LIST_PAGE));
  const page = await call.run(() =>
    call.objects.basicApi.getPage(
      info.capability.name,
      limit,
      request.pageToken,
      [info.modifiedProperty],
      undefined,
      undefined,
      false,
      call.options,
    ),
  );
  const since = request.modifiedSince === undefined ? undefined : Date.parse(request.modifiedSince);
  const ids = page.results
    .map((result) => toCrmRecord(info, result))
    .filter((record) => since === undefined || Date.parse(record.modifiedAt) >= since)
    .map((record) => ({ id: record.id, modifiedAt: record.modifiedAt }));
  const next = page.paging?.next?.after;
  return { ids, ...(next ? { nextPageToken: next } : {}) };
}
