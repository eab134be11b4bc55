import {
  CrmError,
  CrmErrorCode,
  type ActivityInput,
  type ActivityResult,
  type AssociateRecordsRequest,
  type AssociateResult,
  type AuthorizeUrlRequest,
  type ChangePage,
  type ChangeSubscription,
  type CodeExchangeRequest,
  type ConnectorCapabilities,
  type CrmRecord,
  type CrmSession,
  type DeleteRecordsRequest,
  type DeleteResult,
  type FieldDescriptor,
  type FindByFieldRequest,
  type FindCompaniesRequest,
  type GetRecordsRequest,
  type IdPage,
  type ListIdsRequest,
  type IntegrationPort,
  type ReadChangesRequest,
  type RegisteredWebhooks,
  type SubscribeChangesRequest,
  type TokenSet,
  type UpsertBatchRequest,
  type UpsertResult,
  type WebhookEvent,
} from '@pm/integration-port';
import { logActivities } from './log-activities';
import { salesforceCapabilities } from './capabilities';
import { resolveConfig, type ResolvedSalesforceConfig, type SalesforceConnectorConfig } from './config';
import { describeObject, FieldCatalog } from './describe-object';
import { deleteRecords } from './delete-records';
import { associateRecords } from './associate-records';
import { findByEmail } from './find-by-email';
import { findByField } from './find-by-field';
import { findCompanies } from './find-companies';
import { getRecords } from './get-records';
import { SalesforceOAuth } from './oauth';
import { listIds } from './list-ids';
import { readChanges } from './read-changes';
import { SessionConnection } from './session-connection';
import { subscribeChanges } from './subscribe-changes';
import { upsertBatch } from './upsert-batch';
import { registerSalesforceWebhooks, removeSalesforceWebhooks } from './register-webhooks';

/**
 * The Salesforce connector: the IntegrationPort over jsforce 3 (REST API, SOQL, sObject Collections, OAuth 2.0 web
 * server flow). Stateless between calls: each call builds a jsforce Connection from the session it is handed, with
 * jsforce's own retries and session refresh switched off (the engine retries, the token vault refreshes).
 */
export class SalesforceConnector implements IntegrationPort {
  readonly provider = 'salesforce';
  private readonly config: ResolvedSalesforceConfig;
  private readonly oauth: SalesforceOAuth;
  /**
   * Fields per org and object, so writes can refuse an unknown field per record (see upsert-batch.ts) and look-ups
   * by a field know its type and whether SOQL can filter on it (find-by-field.ts).
   */
  private readonly fieldCatalog = new FieldCatalog();

  constructor(config: SalesforceConnectorConfig) {
    this.config = resolveConfig(config);
    this.oauth = new SalesforceOAuth(this.config);
  }

  capabilities(): ConnectorCapabilities {
    return salesforceCapabilities(this.config);
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
    return describeObject(this.connect(session), object, this.fieldCatalog);
  }

  readChanges(session: CrmSession, request: ReadChangesRequest): Promise<ChangePage> {
    return readChanges(this.connect(session), request);
  }

  listIds(session: CrmSession, request: ListIdsRequest): Promise<IdPage> {
    return listIds(this.connect(session), request);
  }

  upsertBatch(session: CrmSession, request: UpsertBatchRequest): Promise<UpsertResult[]> {
    return upsertBatch(this.connect(session), request, this.fieldCatalog);
  }

  findByEmail(session: CrmSession, object: string, emails: string[]): Promise<CrmRecord[]> {
    return findByEmail(this.connect(session), object, emails);
  }

  findByField(session: CrmSession, request: FindByFieldRequest): Promise<CrmRecord[]> {
    return findByField(this.connect(session), this.fieldCatalog, request);
  }

  getRecords(session: CrmSession, request: GetRecordsRequest): Promise<CrmRecord[]> {
    return getRecords(this.connect(session), request);
  }

  deleteRecords(session: CrmSession, request: DeleteRecordsRequest): Promise<DeleteResult[]> {
    return deleteRecords(this.connect(session), request);
  }

  findCompanies(session: CrmSession, request: FindCompaniesRequest): Promise<CrmRecord[]> {
    return findCompanies(this.connect(session), request);
  }

  associateRecords(session: CrmSession, request: AssociateRecordsRequest): Promise<AssociateResult[]> {
    return associateRecords(this.connect(session), request);
  }

  logActivities(session: CrmSession, activities: ActivityInput[]): Promise<ActivityResult[]> {
    return logActivities(this.connect(session), activities, this.config.activityKeyField);
  }

  /** Change Data Capture over the Streaming API (CometD), one channel per object. */
  subscribeChanges(session: CrmSession, request: SubscribeChangesRequest): Promise<ChangeSubscription> {
    return subscribeChanges(session, this.config, request);
  }

  /** Salesforce sends no webhooks this connector accepts yet (capabilities say so): every request is refused. */
  parseWebhook(): WebhookEvent[] {
    throw new CrmError(
      CrmErrorCode.INVALID_SIGNATURE,
      'Salesforce webhooks are not supported by this connector',
      {
        provider: this.provider,
      },
    );
  }

  private connect(session: CrmSession): SessionConnection {
    return new SessionConnection(session, this.config);
  }

  registerWebhooks(): Promise<RegisteredWebhooks> {
    return registerSalesforceWebhooks();
  }

  removeWebhooks(): Promise<void> {
    return removeSalesforceWebhooks();
  }
}
