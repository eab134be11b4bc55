import { collectPages, inBatches } from '@pm/connector-kit';
import { type CrmRecord, type FindByFieldRequest } from '@pm/integration-port';
import { FilterOperatorEnum } from '@hubspot/api-client/lib/codegen/crm/objects';
import type { HubSpotCall } from './client';
import { HUBSPOT_MAX_SEARCH_PAGE } from './config';
import { propertiesToRead, requireObject, toCrmRecord, type SdkObject } from './records';

/** Values one `IN` filter may carry (HubSpot's CRM search documents at most 100). */
export const VALUES_PER_SEARCH = 100;

/**
 * findByField: one CRM search per 100 values (`POST /crm/v3/objects/{object}/search`, a `<property> IN (…)` filter),
 * every page of each answer followed by connector-kit. HubSpot compares text without regard to case and documents
 * IN values for text properties in lower case, so they are sent lower-cased; what comes back is then kept only
 * where the property holds the value exactly (the port's rule), except for the object's e-mail, which HubSpot
 * itself treats case-insensitively. Search is on HubSpot's search rate limit (see the capabilities) and lags
 * writes by a few seconds, which a matching key tolerates (a record made seconds ago was made by this sync).
 */
export async function findHubSpotByField(
  call: HubSpotCall,
  request: FindByFieldRequest,
): Promise<CrmRecord[]> {
  const info = requireObject(request.object);
  const ignoreCase = info.capability.emailField === request.field;
  const comparable = (value: string) => (ignoreCase ? value.toLowerCase() : value);
  const wanted = new Set(request.values.map(comparable));
  const searched = [...new Set(request.values.map((value) => value.toLowerCase()))].filter(
    (value) => value !== '',
  );
  const properties = propertiesToRead(info, [
    ...new Set([request.field, ...(request.fields ?? info.defaultProperties)]),
  ]);
  const found = new Map<string, CrmRecord>();
  for (const values of inBatches(searched, VALUES_PER_SEARCH)) {
    const matches = await collectPages<SdkObject>(call.facts.pagination, (after) =>
      call.run(() =>
        call.objects.searchApi.doSearch(
          info.capability.name,
          {
            filterGroups: [
              { filters: [{ propertyName: request.field, operator: FilterOperatorEnum.In, values }] },
            ],
            properties,
            limit: HUBSPOT_MAX_SEARCH_PAGE,
            ...(after === undefined ? {} : { after }),
          },
          call.options,
        ),
      ),
    );
    for (const match of matches) {
      const value = match.properties[request.field];
      if (typeof value === 'string' && wanted.has(comparable(value)))
        found.set(match.id, toCrmRecord(info, match));
    }
  }
  return [...found.values()];
}
