import type {
  ActivityInput,
  ActivityResult,
  AuthorizeUrlRequest,
  ChangePage,
  CodeExchangeRequest,
  ConnectorCapabilities,
  CrmRecord,
  CrmSession,
  DeleteRecordsRequest,
  DeleteResult,
  FieldDescriptor,
  GetRecordsRequest,
  IntegrationPort,
  ReadChangesRequest,
  TokenSet,
  UpsertBatchRequest,
  UpsertResult,
  WebhookEvent,
  WebhookRequest,
  WebhookSecrets,
} from '@pm/integration-port';
import { PipedriveActivityLogger } from './pipedrive-activities';
import {
  resolvePipedriveConfig,
  type PipedriveConnectorConfig,
  type ResolvedPipedriveConfig,
} from './pipedrive-config';
import { describePipedriveObject } from './pipedrive-describe';
import { findPipedrivePersonsByEmail } from './pipedrive-find-by-email';
import { PipedriveHttpClient } from './pipedrive-http';
import { PIPEDRIVE_HTTP_FACTS, PIPEDRIVE_PROVIDER } from './pipedrive-http-facts';
import { PipedriveOAuth } from './pipedrive-oauth';
import { PIPEDRIVE_OBJECTS } from './pipedrive-objects';
import { readPipedriveChanges } from './pipedrive-read-changes';
import { deletePipedriveRecords, getPipedriveRecords, IDS_PER_LIST } from './pipedrive-records-by-id';
import {
  createPipedriveWebhook,
  deletePipedriveWebhook,
  parsePipedriveWebhook,
  type WebhookSubscription,
} from './pipedrive-webhooks';
import { PipedriveWriter } from './pipedrive-writes';

/**
 * The Pipedrive connector: persons, organizations and activities over API v2 (v1 for field metadata, the current
 * user and webhooks), through a thin typed fetch client (see pipedrive-http.ts for why not the SDK). It translates,
 * reads one page per call and never retries; every failure is a CrmError mapped in pipedrive-errors.ts.
 */
export class PipedriveConnector implements IntegrationPort {
  readonly provider = PIPEDRIVE_PROVIDER;
  readonly httpFacts = PIPEDRIVE_HTTP_FACTS;
  private readonly config: ResolvedPipedriveConfig;
  private readonly http: PipedriveHttpClient;
  private readonly oauth: PipedriveOAuth;
  private readonly writer: PipedriveWriter;
  private readonly activityLogger: PipedriveActivityLogger;

  constructor(config: PipedriveConnectorConfig) {
    this.config = resolvePipedriveConfig(config);
    this.http = new PipedriveHttpClient(this.config);
    this.oauth = new PipedriveOAuth(this.config, this.http);
    this.writer = new PipedriveWriter(this.http, this.config);
    this.activityLogger = new PipedriveActivityLogger(this.http, this.config.maxConcurrency);
  }

  capabilities(): ConnectorCapabilities {
    return {
      provider: this.provider,
      displayName: 'Pipedrive',
      objects: PIPEDRIVE_OBJECTS.map((object) => ({ ...object })),
      maxWriteBatch: this.config.maxWriteBatch,
      // No batch endpoint: every record is its own request (plus an e-mail search before a create).
      writeRecordsPerRequest: 1,
      // What each call really sends, so the rate budget reserves it: a write may first search the e-mail (create)
      // or read the record (merging e-mails and phones); look-ups search one e-mail a request, then read the
      // matches 100 a request; reads by id take 100 ids a request; deletes and activities go one by one.
      requestCounts: {
        upsertBatch: { requestsPerItem: 2 },
        findByEmail: { requestsPerItem: 1, itemsPerRequest: IDS_PER_LIST },
        getRecords: { itemsPerRequest: IDS_PER_LIST },
        deleteRecords: { requestsPerItem: 1 },
        logActivities: { requestsPerItem: 2 },
      },
      maxReadPage: PIPEDRIVE_HTTP_FACTS.pagination.maxPageSize,
      maxConcurrency: this.config.maxConcurrency,
      rateLimits: this.config.rateLimits.map((limit) => ({ ...limit })),
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

  buildAuthorizeUrl(request: AuthorizeUrlRequest): string {
    return this.oauth.buildAuthorizeUrl(request);
  }

  exchangeCode(request: CodeExchangeRequest): Promise<TokenSet> {
    return this.oauth.exchangeCode(request);
  }

  refreshTokens(refreshToken: string, previous?: { instanceUrl?: string }): Promise<TokenSet> {
    return this.oauth.refreshTokens(refreshToken, previous);
  }

  revokeToken(token: string): Promise<void> {
    return this.oauth.revokeToken(token);
  }

  describeObject(session: CrmSession, object: string): Promise<FieldDescriptor[]> {
    return describePipedriveObject(this.http, session, object);
  }

  readChanges(session: CrmSession, request: ReadChangesRequest): Promise<ChangePage> {
    return readPipedriveChanges(this.http, session, request, {
      overlapMs: this.config.readOverlapMs,
      maxPageSize: PIPEDRIVE_HTTP_FACTS.pagination.maxPageSize,
    });
  }

  upsertBatch(session: CrmSession, request: UpsertBatchRequest): Promise<UpsertResult[]> {
    return this.writer.upsertBatch(session, request);
  }

  findByEmail(session: CrmSession, object: string, emails: string[]): Promise<CrmRecord[]> {
    return findPipedrivePersonsByEmail(this.http, session, object, emails, this.config.maxConcurrency);
  }

  getRecords(session: CrmSession, request: GetRecordsRequest): Promise<CrmRecord[]> {
    return getPipedriveRecords(this.http, session, request, this.config.maxConcurrency);
  }

  deleteRecords(session: CrmSession, request: DeleteRecordsRequest): Promise<DeleteResult[]> {
    return deletePipedriveRecords(this.http, session, request, this.config.maxConcurrency);
  }

  logActivities(session: CrmSession, activities: ActivityInput[]): Promise<ActivityResult[]> {
    return this.activityLogger.logActivities(session, activities);
  }

  parseWebhook(request: WebhookRequest, secrets: WebhookSecrets): WebhookEvent[] {
    return parsePipedriveWebhook(request, secrets);
  }

  /** Subscribes a v2.0 webhook with HTTP Basic credentials (not part of the port; used when enabling real-time sync). */
  createWebhook(session: CrmSession, subscription: WebhookSubscription): Promise<string> {
    return createPipedriveWebhook(this.http, session, subscription);
  }

  deleteWebhook(session: CrmSession, webhookId: string): Promise<void> {
    return deletePipedriveWebhook(this.http, session, webhookId);
  }
}
