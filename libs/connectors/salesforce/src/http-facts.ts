import type { HttpFacts } from '@pm/connector-kit';

/**
 * Salesforce's HTTP facts as data (REST API Developer Guide): the REST base under the org's instance URL, query
 * paging by `nextRecordsUrl`, the daily allocation in `Sforce-Limit-Info: api-usage=used/limit`, and the token
 * endpoint's fields (no `expires_in`: the session lifetime is an org setting).
 */
export const SALESFORCE_HTTP_FACTS: HttpFacts = {
  provider: 'salesforce',
  baseUrl: '{instanceUrl}/services/data',
  pagination: {
    style: 'link',
    nextPath: 'nextRecordsUrl',
    itemsPath: 'records',
    maxPageSize: 2000,
  },
  rateLimitHeaders: {
    dailyUsage: { header: 'sforce-limit-info', key: 'api-usage' },
    retryAfter: 'retry-after',
  },
  tokenResponse: {
    accessToken: 'access_token',
    refreshToken: 'refresh_token',
    scope: 'scope',
    instanceUrl: 'instance_url',
  },
  // Org instances and My Domains (`acme.my.salesforce.com`, `na1.salesforce.com`, government and Hyperforce hosts).
  allowedApiHosts: ['*.salesforce.com', '*.force.com', '*.salesforce.mil', '*.cloudforce.com'],
};
