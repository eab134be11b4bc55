import { inBatches } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  normaliseDomain,
  type CrmRecord,
  type FindCompaniesRequest,
} from '@pm/integration-port';
import type { HubSpotCall } from './client';
import { HUBSPOT_MAX_BATCH, HUBSPOT_MAX_SEARCH_PAGE, HUBSPOT_PROVIDER } from './config';
import { propertiesToRead, requireObject, toCrmRecord, type SdkObject } from './records';

/**
 * findCompanies: one CRM search per 100 names and 100 domains (`POST /crm/v3/objects/companies/search`), a filter
 * group each: `domain IN (…)` or `name IN (…)`. HubSpot matches text case-insensitively and documents IN values
 * for text properties in lower case, so both lists are sent lower-cased; every page of the answer is followed.
 */
export async function findHubSpotCompanies(
  call: HubSpotCall,
  request: FindCompaniesRequest,
): Promise<CrmRecord[]> {
  const info = requireObject(request.object);
  if (info.capability.role !== 'company') {
    throw new CrmError(CrmErrorCode.VALIDATION_FAILED, `HubSpot ${request.object} are not companies`, {
      provider: HUBSPOT_PROVIDER,
      field: 'object',
    });
  }
  const names = [...new Set(request.names.map((name) => name.trim().toLowerCase()).filter(Boolean))];
  const domains = [
    ...new Set(request.domains.map(normaliseDomain).filter((domain): domain is string => domain !== null)),
  ];
  const properties = propertiesToRead(info, request.fields);
  const found = new Map<string, CrmRecord>();
  const searches = [
    ...inBatches(domains, HUBSPOT_MAX_BATCH).map((values) => ({ propertyName: 'domain', values })),
    ...inBatches(names, HUBSPOT_MAX_BATCH).map((values) => ({ propertyName: 'name', values })),
  ];
  for (const filter of searches) {
    let after: string | undefined;
    do {
      const page = await call.run(() =>
        call.objects.searchApi.doSearch(
          info.capability.name,
          {
            filterGroups: [{ filters: [{ ...filter, operator: 'IN' as never }] }],
            properties,
            limit: HUBSPOT_MAX_SEARCH_PAGE,
            ...(after === undefined ? {} : { after }),
          },
          call.options,
        ),
      );
      for (const result of page.results as SdkObject[]) found.set(result.id, toCrmRecord(info, result));
      after = page.paging?.next?.after;
    } while (after !== undefined);
  }
  return [...found.values()];
}
