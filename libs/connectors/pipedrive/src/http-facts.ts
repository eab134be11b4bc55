import type { HttpFacts, PaginationFacts } from '@pm/connector-kit';

export const PIPEDRIVE_PROVIDER = 'pipedrive';

/**
 * Pipedrive's HTTP facts as data: the API lives on the company's own domain (`api_domain` from the token response,
 * the session's instanceUrl); API v2 lists page with `cursor`/`limit` and answer `additional_data.next_cursor`;
 * every response carries `x-ratelimit-limit`, `-remaining` and `-reset` (seconds) and a 429 adds `retry-after`.
 */
export const PIPEDRIVE_HTTP_FACTS: HttpFacts = {
  provider: PIPEDRIVE_PROVIDER,
  baseUrl: '{instanceUrl}',
  pagination: {
    style: 'cursor',
    cursorParam: 'cursor',
    limitParam: 'limit',
    nextPath: 'additional_data.next_cursor',
    itemsPath: 'data',
    maxPageSize: 500,
  },
  rateLimitHeaders: {
    windowLimit: 'x-ratelimit-limit',
    windowRemaining: 'x-ratelimit-remaining',
    windowReset: { header: 'x-ratelimit-reset', unit: 'seconds' },
    retryAfter: 'retry-after',
  },
  tokenResponse: {
    accessToken: 'access_token',
    refreshToken: 'refresh_token',
    expiresIn: 'expires_in',
    scope: 'scope',
    instanceUrl: 'api_domain',
  },
  // Each company's API domain is `https://{company}.pipedrive.com`.
  allowedApiHosts: ['*.pipedrive.com'],
};

/** The person search (`GET /api/v2/persons/search`): the same cursor paging, its items under `data.items`. */
export const PIPEDRIVE_SEARCH_PAGINATION: PaginationFacts = {
  ...PIPEDRIVE_HTTP_FACTS.pagination,
  itemsPath: 'data.items',
};

/**
 * API v1 lists (the field metadata `GET /api/v1/personFields`): offset paging by `start`/`limit`, the next offset in
 * `additional_data.next_start`, absent on the last page (as the sandbox answers; the real API nests the same fields
 * under `additional_data.pagination`).
 */
export const PIPEDRIVE_V1_PAGINATION: PaginationFacts = {
  style: 'offset',
  cursorParam: 'start',
  limitParam: 'limit',
  nextPath: 'additional_data.next_start',
  itemsPath: 'data',
  maxPageSize: 500,
};
