import type { ConnectorCapabilities } from '@pm/integration-port';
import type { ResolvedSalesforceConfig } from './config';
import { SALESFORCE_DEFAULT_COMPANY_MAPPINGS, SALESFORCE_DEFAULT_MAPPINGS } from './default-mapping';
import { VALUES_PER_QUERY } from './find-by-field';
import { TERMS_PER_QUERY } from './find-companies';
import { SALESFORCE_OBJECTS } from './objects';
import { MAX_READ_PAGE } from './read-changes';
import { MAX_WRITE_BATCH } from './upsert-batch';
import { SALESFORCE_EMAIL_STATUS_FIELDS } from './email-status-fields';

/** Calls the daily allocation's even spread lets go at once (see `RateLimitPolicy.spread`). */
export const SALESFORCE_SPREAD_BURST = 100;

export function salesforceCapabilities(config: ResolvedSalesforceConfig): ConnectorCapabilities {
  return {
    provider: 'salesforce',
    displayName: 'Salesforce',
    shortName: 'SF',
    objects: SALESFORCE_OBJECTS.map((spec) => ({ ...spec.capability })),
    maxWriteBatch: MAX_WRITE_BATCH,
    // A company look-up is one SOQL query per 50 names and domains; a look-up by another field one per 100 values
    // (the describe it needs is kept ten minutes per org and object, so it is not charged per call).
    requestCounts: {
      findCompanies: { itemsPerRequest: TERMS_PER_QUERY },
      findByField: { itemsPerRequest: VALUES_PER_QUERY },
    },
    maxReadPage: MAX_READ_PAGE,
    // Salesforce limits concurrent long-running requests (25 per org over 20 s), not short ones; stay modest.
    maxConcurrency: 4,
    // The daily API request allocation (edition × licences); `Sforce-Limit-Info` reports the real one per response.
    // Salesforce has no per-second limit, only this allocation, shared by every integration of the org: it is spent
    // no faster than its even spread over the day, in bursts of up to 100 calls (a 10,000-contact first sync, ~55
    // calls, goes at once on any org; 100,000 contacts on a 150,000-a-day org take about 5 minutes).
    rateLimits: [
      { kind: 'daily', limit: config.dailyApiRequests, spread: { burst: SALESFORCE_SPREAD_BURST } },
    ],
    defaultMappings: SALESFORCE_DEFAULT_MAPPINGS,
    emailStatusFields: SALESFORCE_EMAIL_STATUS_FIELDS,
    defaultCompanyMappings: SALESFORCE_DEFAULT_COMPANY_MAPPINGS,
    // No webhooks: changes arrive over Change Data Capture (CometD), see subscribe-changes.ts.
    webhooks: { supported: false, verification: 'none' },
    // Refresh tokens rotate only when the connected app turns rotation on; the vault keeps the old one otherwise.
    oauth: { pkce: true, defaultScopes: [...config.defaultScopes], refreshRotates: false },
  };
}
