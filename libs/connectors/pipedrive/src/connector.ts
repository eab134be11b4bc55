import type {
  RegisterWebhooksRequest,
  RegisteredWebhooks,
  IdPage,
  ListIdsRequest,
  ActivityInput,
  ActivityResult,
  AssociateRecordsRequest,
  AssociateResult,
  AuthorizeUrlRequest,
  ChangePage,
  CodeExchangeRequest,
  ConnectorCapabilities,
  CrmRecord,
  CrmSession,
  DeleteRecordsRequest,
  DeleteResult,
  FieldDescriptor,
  FindByFieldRequest,
  FindCompaniesRequest,
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
import { pipedriveCapabilities } from './capabilities';
import { PipedriveActivityLogger } from './log-activities';
import {
  resolvePipedriveConfig,
  type PipedriveConnectorConfig,
  type ResolvedPipedriveConfig,
} from './config';
import { describePipedriveObject } from './describe-object';
import { associatePipedriveRecords } from './associate-records';
import { findPipedrivePersonsByEmail } from './find-by-email';
import { findPipedriveByField } from './find-by-field';
import { findPipedriveCompanies } from './find-companies';
import { PipedriveHttpClient } from './client';
import { PIPEDRIVE_HTTP_FACTS, PIPEDRIVE_PROVIDER } from './http-facts';
import { PipedriveOAuth } from './oauth';
import { listPipedriveIds } from './list-ids';
import { readPipedriveChanges } from './read-changes';
import { deletePipedriveRecords } from './delete-records';
import { getPipedriveRecords } from './get-records';
import {
  createPipedriveWebhook,
  deletePipedriveWebhook,
  parsePipedriveWebhook,
  type WebhookSubscription,
} from './parse-webhook';
import { PipedriveWriter } from './upsert-batch';
import { registerPipedriveWebhooks, removePipedriveWebhooks } from './register-webhooks';

/**
 * The Pipedrive connector: persons, organizations and activities over API v2 (v1 for field metadata, the current
 * user and webhooks), through a thin typed fetch client (see client.ts for why not the SDK). It translates,
 * reads one page per call, sends its requests one after another (the engine owns concurrency) and never retries; every failure is a CrmError mapped in errors.ts.
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
    this.activityLogger = new PipedriveActivityLogger(this.http);
  }

  capabilities(): ConnectorCapabilities {
    return pipedriveCapabilities(this.config);
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

  listIds(session: CrmSession, request: ListIdsRequest): Promise<IdPage> {
    return listPipedriveIds(this.http, session, request, {
      maxPageSize: PIPEDRIVE_HTTP_FACTS.pagination.maxPageSize,
    });
  }

  upsertBatch(session: CrmSession, request: UpsertBatchRequest): Promise<UpsertResult[]> {
    return this.writer.upsertBatch(session, request);
  }

  findByEmail(session: CrmSession, object: string, emails: string[]): Promise<CrmRecord[]> {
    return findPipedrivePersonsByEmail(this.http, session, object, emails);
  }

  findByField(session: CrmSession, request: FindByFieldRequest): Promise<CrmRecord[]> {
    return findPipedriveByField(this.http, session, request);
  }

  getRecords(session: CrmSession, request: GetRecordsRequest): Promise<CrmRecord[]> {
    return getPipedriveRecords(this.http, session, request);
  }

  deleteRecords(session: CrmSession, request: DeleteRecordsRequest): Promise<DeleteResult[]> {
    return deletePipedriveRecords(this.http, session, request);
  }

  findCompanies(session: CrmSession, request: FindCompaniesRequest): Promise<CrmRecord[]> {
    return findPipedriveCompanies(this.http, session, request);
  }

  associateRecords(session: CrmSession, request: AssociateRecordsRequest): Promise<AssociateResult[]> {
    return associatePipedriveRecords(this.http, session, request);
  }

  logActivities(session: CrmSession, activities: ActivityInput[]): Promise<ActivityResult[]> {
    return this.activityLogger.logActivities(session, activities);
  }

  parseWebhook(request: WebhookRequest, secrets: WebhookSecrets): WebhookEvent[] {
    return parsePipedriveWebhook(request, secrets);
  }

  registerWebhooks(session: CrmSession, request: RegisterWebhooksRequest): Promise<RegisteredWebhooks> {
    return registerPipedriveWebhooks(this.http, session, request);
  }

  removeWebhooks(session: CrmSession, ids: string[]): Promise<void> {
    return removePipedriveWebhooks(this.http, session, ids);
  }

  /** Subscribes a v2.0 webhook with HTTP Basic credentials (not part of the port; used when enabling real-time sync). */
  createWebhook(session: CrmSession, subscription: WebhookSubscription): Promise<string> {
    return createPipedriveWebhook(this.http, session, subscription);
  }

  deleteWebhook(session: CrmSession, webhookId: string): Promise<void> {
    return deletePipedriveWebhook(this.http, session, webhookId);
  }
}
