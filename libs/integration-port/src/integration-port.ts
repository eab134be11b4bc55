import type {
  ActivityInput,
  ActivityResult,
  AssociateRecordsRequest,
  AssociateResult,
  AuthorizeUrlRequest,
  ChangePage,
  ChangeSubscription,
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
  ProviderId,
  ReadChangesRequest,
  RegisterWebhooksRequest,
  RegisteredWebhooks,
  SubscribeChangesRequest,
  TokenSet,
  UpsertBatchRequest,
  UpsertResult,
  WebhookEvent,
  WebhookRequest,
  WebhookSecrets,
} from './types';

/**
 * The one interface every CRM connector implements. A connector translates between its CRM and these types:
 * it never fetches or decrypts credentials (a `CrmSession` is handed in), never loops pages (it returns one
 * `ChangePage`; `paginate()` loops), and never retries (it throws a `CrmError`; the retry policy decides).
 */
export interface IntegrationPort {
  readonly provider: ProviderId;

  capabilities(): ConnectorCapabilities;

  // OAuth 2.0 (authorization code grant). Client id, secret and the CRM's URLs are the connector's configuration.
  buildAuthorizeUrl(request: AuthorizeUrlRequest): string;
  exchangeCode(request: CodeExchangeRequest): Promise<TokenSet>;
  /** Throws CrmError AUTH_REVOKED on `invalid_grant`. */
  refreshTokens(refreshToken: string, previous?: { instanceUrl?: string }): Promise<TokenSet>;
  revokeToken(token: string, session?: Pick<CrmSession, 'instanceUrl'>): Promise<void>;

  describeObject(session: CrmSession, object: string): Promise<FieldDescriptor[]>;

  /** One page of records changed since a cursor, oldest first, ties ordered by id. */
  readChanges(session: CrmSession, request: ReadChangesRequest): Promise<ChangePage>;

  /**
   * One page of the ids and modification times of the live records of `object` (the reconcile's cheap read: no
   * other field is asked for where the CRM lets a read choose); `paginate()` loops pages.
   */
  listIds(session: CrmSession, request: ListIdsRequest): Promise<IdPage>;

  /** Create or update up to `maxWriteBatch` records; one result per input, in input order. */
  upsertBatch(session: CrmSession, request: UpsertBatchRequest): Promise<UpsertResult[]>;

  /** Records of `object` whose e-mail is one of `emails` (lower-cased); more than one per e-mail is possible. */
  findByEmail(session: CrmSession, object: string, emails: string[]): Promise<CrmRecord[]>;

  /**
   * Records of `object` whose `field` holds one of `values` (see `FindByFieldRequest`); more than one per value is
   * possible. Batched at the CRM's limit inside the call. The look-up of a matching key that is not the e-mail. A
   * field the CRM cannot look records up by is refused with VALIDATION_FAILED naming it.
   */
  findByField(session: CrmSession, request: FindByFieldRequest): Promise<CrmRecord[]>;

  /**
   * Records of `object` by CRM id (e.g. the companies a page of contacts is associated with), batched at the CRM's
   * limit inside the call; ids that do not exist are simply absent from the result.
   */
  getRecords(session: CrmSession, request: GetRecordsRequest): Promise<CrmRecord[]>;

  /** Deletes (archives, where the CRM keeps a recycle bin) records by CRM id; one result per id, in order. */
  deleteRecords(session: CrmSession, request: DeleteRecordsRequest): Promise<DeleteResult[]>;

  /**
   * Company records matching any of the names or domains (see `FindCompaniesRequest`), looked up before a company
   * is created so it is never duplicated. Batched at the CRM's limit inside the call.
   */
  findCompanies(session: CrmSession, request: FindCompaniesRequest): Promise<CrmRecord[]>;

  /**
   * Associates records with a company (Salesforce Contact.AccountId, HubSpot's default contact→company
   * association, Pipedrive person.org_id); one result per pair, in order. Associating again is no error.
   */
  associateRecords(session: CrmSession, request: AssociateRecordsRequest): Promise<AssociateResult[]>;

  logActivities(session: CrmSession, activities: ActivityInput[]): Promise<ActivityResult[]>;

  /** Verifies the request's signature or credentials and returns its events; throws INVALID_SIGNATURE. */
  parseWebhook(request: WebhookRequest, secrets: WebhookSecrets): WebhookEvent[];

  /**
   * Creates the connection's change webhooks at the CRM (where subscriptions are per connection; an app-level CRM
   * answers no ids). Already registered ones are the caller's to remove first.
   */
  registerWebhooks(session: CrmSession, request: RegisterWebhooksRequest): Promise<RegisteredWebhooks>;

  /** Removes webhooks `registerWebhooks` created; one already gone counts as removed. */
  removeWebhooks(session: CrmSession, ids: string[]): Promise<void>;

  /**
   * Optional: follows the CRM's change stream (Salesforce Change Data Capture) with the session it is handed. A
   * connector without a stream leaves it out. It never refreshes the session: an auth failure is reported and the
   * caller subscribes again with a fresh one.
   */
  subscribeChanges?(session: CrmSession, request: SubscribeChangesRequest): Promise<ChangeSubscription>;
}

/** DI token for the explicit provider → connector map (`IntegrationPortRegistry`). */
export const INTEGRATION_PORTS = Symbol('INTEGRATION_PORTS');

/** The explicit, typed map from provider id to its connector. Built by the app module, never self-registered. */
export type IntegrationPortMap = Readonly<Record<ProviderId, IntegrationPort>>;
