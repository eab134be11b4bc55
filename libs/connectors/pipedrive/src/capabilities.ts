import type { ConnectorCapabilities } from '@pm/integration-port';
import { PIPEDRIVE_DEFAULT_MAPPINGS } from './default-mapping';
import type { ResolvedPipedriveConfig } from './config';
import { PIPEDRIVE_HTTP_FACTS, PIPEDRIVE_PROVIDER } from './http-facts';
import { PIPEDRIVE_OBJECTS } from './objects';

/** What the Pipedrive connector can do and how hard the engine may push one account. */
export function pipedriveCapabilities(config: ResolvedPipedriveConfig): ConnectorCapabilities {
  return {
    provider: PIPEDRIVE_PROVIDER,
    displayName: 'Pipedrive',
    objects: PIPEDRIVE_OBJECTS.map((object) => ({ ...object })),
    maxWriteBatch: config.maxWriteBatch,
    // No batch endpoint: every record is its own request (plus an e-mail search before a create, unless the
    // caller matched it already: createsMatched).
    writeRecordsPerRequest: 1,
    maxReadPage: PIPEDRIVE_HTTP_FACTS.pagination.maxPageSize,
    // Port calls at once per account (the engine's gate); each call sends its requests one after another.
    maxConcurrency: config.maxConcurrency,
    rateLimits: config.rateLimits.map((limit) => ({ ...limit })),
    defaultMappings: PIPEDRIVE_DEFAULT_MAPPINGS,
    webhooks: { supported: true, verification: 'basic-auth' },
    // Scopes are chosen on the app in Pipedrive's Developer Hub, not per authorize request; these are what the
    // sync needs. Pipedrive has no PKCE. A refresh answers a refresh token, which the vault stores as given.
    oauth: {
      pkce: false,
      defaultScopes: ['base', 'contacts:full', 'activities:full'],
      refreshRotates: false,
    },
  };
}
