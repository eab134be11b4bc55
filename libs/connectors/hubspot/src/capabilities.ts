import type { ConnectorCapabilities } from '@pm/integration-port';
import { HUBSPOT_DEFAULT_COMPANY_MAPPINGS, HUBSPOT_DEFAULT_MAPPINGS } from './default-mapping';
import { HUBSPOT_WEBHOOK_SUBSCRIPTIONS } from './register-webhooks';
import {
  HUBSPOT_DEFAULT_SCOPES,
  HUBSPOT_MAX_BATCH,
  HUBSPOT_MAX_SEARCH_PAGE,
  HUBSPOT_OBJECTS,
  HUBSPOT_PROVIDER,
  type HubSpotConnectorConfig,
} from './config';
import { HUBSPOT_EMAIL_STATUS_FIELDS } from './email-status-fields';
import { VALUES_PER_SEARCH } from './find-by-field';

export function hubSpotCapabilities(config: HubSpotConnectorConfig): ConnectorCapabilities {
  return {
    provider: HUBSPOT_PROVIDER,
    displayName: 'HubSpot',
    objects: Object.values(HUBSPOT_OBJECTS).map((info) => ({ ...info.capability })),
    maxWriteBatch: HUBSPOT_MAX_BATCH,
    // Associating a batch of 100 contacts reads their company associations, archives stale ones and creates the
    // new ones: three requests per 100 pairs (one per 33 keeps the reservation on the safe side).
    // A look-up by another field is one search per 100 values (one page holds every match unless values are shared
    // by more than two records each).
    requestCounts: {
      associateRecords: { itemsPerRequest: 33 },
      findByField: { itemsPerRequest: VALUES_PER_SEARCH },
    },
    maxReadPage: HUBSPOT_MAX_SEARCH_PAGE,
    // Batches carry the volume; a few calls in flight stay far inside 110 per 10 s.
    maxConcurrency: 4,
    rateLimits: [
      // Public (OAuth) apps: 110 calls per 10 s per account (developers.hubspot.com/docs/api/usage-details).
      { kind: 'window', limit: 110, windowMs: 10_000 },
      // Search has its own limit of about 5 calls per second per account; it governs only the calls that search
      // (change reads, company look-ups, look-ups by a field other than the e-mail, and activity logging's look-up
      // of keys already logged), so batch writes and batch reads are paced by the 110 per 10 s alone.
      {
        kind: 'window',
        limit: 5,
        windowMs: 1000,
        governs: ['readChanges', 'logActivities', 'findCompanies', 'findByField'],
      },
    ],
    defaultMappings: HUBSPOT_DEFAULT_MAPPINGS,
    emailStatusFields: HUBSPOT_EMAIL_STATUS_FIELDS,
    defaultCompanyMappings: HUBSPOT_DEFAULT_COMPANY_MAPPINGS,
    webhooks: {
      supported: true,
      verification: 'hmac-sha256',
      registration: 'app',
      subscriptions: HUBSPOT_WEBHOOK_SUBSCRIPTIONS,
    },
    // HubSpot's OAuth v1 token endpoint documents no PKCE and the SDK's token call cannot send a code_verifier.
    oauth: { pkce: false, defaultScopes: config.scopes ?? HUBSPOT_DEFAULT_SCOPES, refreshRotates: false },
  };
}
