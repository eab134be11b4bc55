import { collectPages, type PaginationFacts } from '@pm/connector-kit';
import type { CrmSession } from '@pm/integration-port';
import type { PipedriveApiRequest, PipedriveHttpClient } from './client';

/**
 * Every item of one Pipedrive listing inside one port call (a look-up the caller needs whole), paged by
 * connector-kit's page follower as `pagination` declares it: the token of the next page goes back in the declared
 * parameter (`cursor` for API v2, `start` for v1). Pages are fetched one after another.
 */
export function collectPipedrivePages<T>(
  http: PipedriveHttpClient,
  session: CrmSession,
  pagination: PaginationFacts,
  request: PipedriveApiRequest,
): Promise<T[]> {
  return collectPages<T>(pagination, (pageToken) => {
    const query = { ...request.query };
    if (pageToken !== undefined && pagination.cursorParam !== undefined) {
      query[pagination.cursorParam] = pageToken;
    }
    return http.api<unknown>(session, { ...request, query });
  });
}
