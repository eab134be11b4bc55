import type { HttpFacts } from '@pm/connector-kit';
import type {
  RegisteredWebhooks,
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
  IdPage,
  ListIdsRequest,
  IntegrationPort,
  ReadChangesRequest,
  TokenSet,
  UpsertBatchRequest,
  UpsertResult,
  WebhookEvent,
  WebhookRequest,
  WebhookSecrets,
} from '@pm/integration-port';
import { HubSpotActivityLogger } from './log-activities';
import { HubSpotCall } from './client';
import { hubSpotCapabilities } from './capabilities';
import { HUBSPOT_PROVIDER, type HubSpotConnectorConfig } from './config';
import { deleteHubSpotRecords } from './delete-records';
import { describeHubSpotObject } from './describe-object';
import { associateHubSpotRecords } from './associate-records';
import { findHubSpotByEmail } from './find-by-email';
import { findHubSpotByField } from './find-by-field';
import { findHubSpotCompanies } from './find-companies';
import { getHubSpotRecords } from './get-records';
import { hubSpotHttpFacts } from './http-facts';
import { listHubSpotIds } from './list-ids';
import { HubSpotOAuth } from './oauth';
import { HubSpotChangeReader } from './read-changes';
import { registerHubSpotWebhooks, removeHubSpotWebhooks } from './register-webhooks';
import { parseHubSpotWebhook } from './parse-webhook';
import { HubSpotWriter } from './upsert-batch';

/**
 * The HubSpot connector: contacts, companies and emails through @hubspot/api-client 13 with the SDK's retries
 * and limiter off (the engine retries and paces). Each method makes its calls through one `HubSpotCall`, which
 * reports rate-limit headers, enforces the timeout and maps errors.
 */
export class HubSpotConnector implements IntegrationPort {
  readonly provider = HUBSPOT_PROVIDER;
  readonly facts: HttpFacts;
  private readonly oauth: HubSpotOAuth;
  private readonly reader: HubSpotChangeReader;
  private readonly writer = new HubSpotWriter();
  private readonly activities: HubSpotActivityLogger;

  constructor(private readonly config: HubSpotConnectorConfig) {
    this.facts = hubSpotHttpFacts(config);
    this.oauth = new HubSpotOAuth(config, this.facts);
    this.reader = new HubSpotChangeReader(config);
    this.activities = new HubSpotActivityLogger(config);
  }

  capabilities(): ConnectorCapabilities {
    return hubSpotCapabilities(this.config);
  }

  buildAuthorizeUrl(request: AuthorizeUrlRequest): string {
    return this.oauth.buildAuthorizeUrl(request);
  }

  exchangeCode(request: CodeExchangeRequest): Promise<TokenSet> {
    return this.oauth.exchangeCode(request);
  }

  refreshTokens(refreshToken: string): Promise<TokenSet> {
    return this.oauth.refreshTokens(refreshToken);
  }

  revokeToken(token: string): Promise<void> {
    return this.oauth.revokeToken(token);
  }

  describeObject(session: CrmSession, object: string): Promise<FieldDescriptor[]> {
    return describeHubSpotObject(this.call(session), object);
  }

  readChanges(session: CrmSession, request: ReadChangesRequest): Promise<ChangePage> {
    return this.reader.readChanges(this.call(session), request);
  }

  listIds(session: CrmSession, request: ListIdsRequest): Promise<IdPage> {
    return listHubSpotIds(this.call(session), request);
  }

  upsertBatch(session: CrmSession, request: UpsertBatchRequest): Promise<UpsertResult[]> {
    return this.writer.upsertBatch(this.call(session), request);
  }

  findByEmail(session: CrmSession, object: string, emails: string[]): Promise<CrmRecord[]> {
    return findHubSpotByEmail(this.call(session), object, emails);
  }

  findByField(session: CrmSession, request: FindByFieldRequest): Promise<CrmRecord[]> {
    return findHubSpotByField(this.call(session), request);
  }

  getRecords(session: CrmSession, request: GetRecordsRequest): Promise<CrmRecord[]> {
    return getHubSpotRecords(this.call(session), request);
  }

  deleteRecords(session: CrmSession, request: DeleteRecordsRequest): Promise<DeleteResult[]> {
    return deleteHubSpotRecords(this.call(session), request);
  }

  findCompanies(session: CrmSession, request: FindCompaniesRequest): Promise<CrmRecord[]> {
    return findHubSpotCompanies(this.call(session), request);
  }

  associateRecords(session: CrmSession, request: AssociateRecordsRequest): Promise<AssociateResult[]> {
    return associateHubSpotRecords(this.call(session), request);
  }

  logActivities(session: CrmSession, activities: ActivityInput[]): Promise<ActivityResult[]> {
    return this.activities.logActivities(this.call(session), session, activities);
  }

  parseWebhook(request: WebhookRequest, secrets: WebhookSecrets): WebhookEvent[] {
    return parseHubSpotWebhook(request, secrets);
  }

  registerWebhooks(): Promise<RegisteredWebhooks> {
    return registerHubSpotWebhooks();
  }

  removeWebhooks(): Promise<void> {
    return removeHubSpotWebhooks();
  }

  private call(session: CrmSession): HubSpotCall {
    return new HubSpotCall(this.config, this.facts, session);
  }
}
