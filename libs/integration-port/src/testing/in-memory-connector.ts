import type { IntegrationPort } from '../integration-port';
import type {
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
  ReadChangesRequest,
  RegisteredWebhooks,
  RegisterWebhooksRequest,
  TokenSet,
  UpsertBatchRequest,
  UpsertResult,
  WebhookEvent,
  WebhookRequest,
  WebhookSecrets,
} from '../types';
import { associateRecords } from './in-memory/associate-records';
import { inMemoryCapabilities } from './in-memory/capabilities';
import { deleteRecords } from './in-memory/delete-records';
import { describeObject } from './in-memory/describe-object';
import { findByEmail } from './in-memory/find-by-email';
import { findByField } from './in-memory/find-by-field';
import { findCompanies } from './in-memory/find-companies';
import { getRecords } from './in-memory/get-records';
import type { InMemoryCrm } from './in-memory/in-memory-crm';
import { listIds } from './in-memory/list-ids';
import { logActivities } from './in-memory/log-activities';
import { buildAuthorizeUrl } from './in-memory/oauth';
import { parseWebhook } from './in-memory/parse-webhook';
import { IN_MEMORY_PROVIDER } from './in-memory/provider';
import { readChanges } from './in-memory/read-changes';
import { registerWebhooks, removeWebhooks } from './in-memory/register-webhooks';
import { enterSession } from './in-memory/session';
import { upsertBatch } from './in-memory/upsert-batch';

/**
 * A small but honest CRM in memory, and the connector for it. The CRM (`InMemoryCrm`, in-memory/in-memory-crm.ts)
 * has its own store, OAuth with PKCE and rotating refresh tokens, per-record validation and signed webhooks; tests
 * stage data through it directly. The connector (`InMemoryConnector`) speaks to it only through the
 * `IntegrationPort` contract, one file per port operation under in-memory/, named as in every connector folder. It
 * serves the engine's unit tests and proves the contract kit itself (`in-memory-connector.spec.ts`).
 */

export { IN_MEMORY_PROVIDER } from './in-memory/provider';
export { InMemoryCrm, type InMemoryCrmOptions, type StoredActivity } from './in-memory/in-memory-crm';
export { buildInMemoryWebhookRequest, signInMemoryWebhook } from './in-memory/webhook-signature';
export { IN_MEMORY_DEFAULT_COMPANY_MAPPINGS, IN_MEMORY_DEFAULT_MAPPINGS } from './in-memory/default-mapping';

export interface InMemoryConnectorOptions {
  authorizeUrl?: string;
  /** Most records one `upsertBatch` takes; small by default so tests cross batch boundaries. */
  maxWriteBatch?: number;
  maxReadPage?: number;
}

/** The connector for `InMemoryCrm`, written as a real one: it translates, pages once, never retries. */
export class InMemoryConnector implements IntegrationPort {
  readonly provider = IN_MEMORY_PROVIDER;
  private readonly authorizeUrl: string;
  private readonly maxWriteBatch: number;
  private readonly maxReadPage: number;
  /** Webhooks registered through the port, by id (tests read them). */
  readonly registeredWebhooks = new Map<string, RegisterWebhooksRequest & { object: string }>();
  private nextWebhookId = 1;

  constructor(
    readonly crm: InMemoryCrm,
    options: InMemoryConnectorOptions = {},
  ) {
    this.authorizeUrl = options.authorizeUrl ?? 'https://crm.example.test/oauth/authorize';
    this.maxWriteBatch = options.maxWriteBatch ?? 3;
    this.maxReadPage = options.maxReadPage ?? 500;
  }

  capabilities(): ConnectorCapabilities {
    return inMemoryCapabilities({ maxWriteBatch: this.maxWriteBatch, maxReadPage: this.maxReadPage });
  }

  buildAuthorizeUrl(request: AuthorizeUrlRequest): string {
    return buildAuthorizeUrl(
      this.authorizeUrl,
      this.crm.clientId,
      this.capabilities().oauth.defaultScopes,
      request,
    );
  }

  async exchangeCode(request: CodeExchangeRequest): Promise<TokenSet> {
    return this.crm.exchangeCode(request);
  }

  async refreshTokens(refreshToken: string): Promise<TokenSet> {
    return this.crm.refresh(refreshToken);
  }

  async revokeToken(token: string): Promise<void> {
    this.crm.revoke(token);
  }

  async describeObject(session: CrmSession, object: string): Promise<FieldDescriptor[]> {
    enterSession(this.crm, session);
    return describeObject(this.crm, object);
  }

  async readChanges(session: CrmSession, request: ReadChangesRequest): Promise<ChangePage> {
    enterSession(this.crm, session);
    return readChanges(this.crm, request, this.maxReadPage);
  }

  async listIds(session: CrmSession, request: ListIdsRequest): Promise<IdPage> {
    enterSession(this.crm, session);
    return listIds(this.crm, request, this.maxReadPage);
  }

  async upsertBatch(session: CrmSession, request: UpsertBatchRequest): Promise<UpsertResult[]> {
    enterSession(this.crm, session);
    return upsertBatch(this.crm, request, this.maxWriteBatch);
  }

  async findByEmail(session: CrmSession, object: string, emails: string[]): Promise<CrmRecord[]> {
    enterSession(this.crm, session);
    return findByEmail(this.crm, object, emails);
  }

  async findByField(session: CrmSession, request: FindByFieldRequest): Promise<CrmRecord[]> {
    enterSession(this.crm, session);
    return findByField(this.crm, request);
  }

  async getRecords(session: CrmSession, request: GetRecordsRequest): Promise<CrmRecord[]> {
    enterSession(this.crm, session);
    return getRecords(this.crm, request);
  }

  async deleteRecords(session: CrmSession, request: DeleteRecordsRequest): Promise<DeleteResult[]> {
    enterSession(this.crm, session);
    return deleteRecords(this.crm, request);
  }

  async findCompanies(session: CrmSession, request: FindCompaniesRequest): Promise<CrmRecord[]> {
    enterSession(this.crm, session);
    return findCompanies(this.crm, request);
  }

  async associateRecords(session: CrmSession, request: AssociateRecordsRequest): Promise<AssociateResult[]> {
    enterSession(this.crm, session);
    return associateRecords(this.crm, request);
  }

  async logActivities(session: CrmSession, activities: ActivityInput[]): Promise<ActivityResult[]> {
    enterSession(this.crm, session);
    return logActivities(this.crm, activities);
  }

  parseWebhook(request: WebhookRequest, secrets: WebhookSecrets): WebhookEvent[] {
    return parseWebhook(request, secrets);
  }

  async registerWebhooks(session: CrmSession, request: RegisterWebhooksRequest): Promise<RegisteredWebhooks> {
    enterSession(this.crm, session);
    return registerWebhooks(this.registeredWebhooks, () => String(this.nextWebhookId++), request);
  }

  async removeWebhooks(session: CrmSession, ids: string[]): Promise<void> {
    enterSession(this.crm, session);
    removeWebhooks(this.registeredWebhooks, ids);
  }
}
