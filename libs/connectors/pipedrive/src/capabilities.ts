import type { ConnectorCapabilities } from '@pm/integration-port';
import { PIPEDRIVE_DEFAULT_COMPANY_MAPPINGS, PIPEDRIVE_DEFAULT_MAPPINGS } from './default-mapping';
import type { ResolvedPipedriveConfig } from './config';
import { PIPEDRIVE_HTTP_FACTS, PIPEDRIVE_PROVIDER } from './http-facts';
import { IDS_PER_LIST } from './get-records';
import { PIPEDRIVE_OBJECTS } from './objects';
import { PIPEDRIVE_EMAIL_STATUS_FIELDS } from './email-status-fields';

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
    // What each call really sends, so the rate budget reserves it: a create may first search the e-mail, and the
    // records updates merge into are read first, 100 a request; look-ups search one e-mail a request, then read
    // the matches 100 a request; reads by id take 100 ids a request; deletes and activities go one by one.
    requestCounts: {
      // A create the engine matched is its POST alone; another create searches the e-mail first; an update is its
      // PATCH, after one read per 100 updates of the records whose e-mails and phones it merges.
      upsertBatch: {
        requestsPerItem: 2,
        perUpsert: { update: 1, create: 2, matchedCreate: 1, updatesPerRead: IDS_PER_LIST },
      },
      findByEmail: { requestsPerItem: 1, itemsPerRequest: IDS_PER_LIST },
      // Likewise a look-up by another field: a search per value, then the matches read 100 a request.
      findByField: { requestsPerItem: 1, itemsPerRequest: IDS_PER_LIST },
      getRecords: { itemsPerRequest: IDS_PER_LIST },
      deleteRecords: { requestsPerItem: 1 },
      logActivities: { requestsPerItem: 2 },
      // A name search per company, then the matches read 100 a request; an association is one update each.
      findCompanies: { requestsPerItem: 1, itemsPerRequest: IDS_PER_LIST },
      associateRecords: { requestsPerItem: 1 },
    },
    maxReadPage: PIPEDRIVE_HTTP_FACTS.pagination.maxPageSize,
    // Port calls at once per account (the engine's gate); each call sends its requests one after another.
    maxConcurrency: config.maxConcurrency,
    rateLimits: config.rateLimits.map((limit) => ({ ...limit })),
    defaultMappings: PIPEDRIVE_DEFAULT_MAPPINGS,
    emailStatusFields: PIPEDRIVE_EMAIL_STATUS_FIELDS,
    defaultCompanyMappings: PIPEDRIVE_DEFAULT_COMPANY_MAPPINGS,
    webhooks: { supported: true, verification: 'basic-auth', registration: 'connection' },
    // Scopes are chosen on the app in Pipedrive's Developer Hub, not per authorize request; these are what the
    // sync needs. Pipedrive has no PKCE. A refresh answers a refresh token, which the vault stores as given.
    oauth: {
      pkce: false,
      defaultScopes: ['base', 'contacts:full', 'activities:full'],
      refreshRotates: false,
    },
  };
}
