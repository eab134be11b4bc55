import type { DefaultCompanyMappings } from './company-mapping';
import type { DefaultFieldMappings } from './field-mapping';

/**
 * Types shared by every CRM connector and the sync engine. Object types and field names are data (strings), never
 * enums: custom objects and more CRMs arrive without touching this file.
 */

/** A CRM's id in this product: 'salesforce', 'hubspot', 'pipedrive', later 'zoho', 'close'. */
export type ProviderId = string;

/** The role an object plays in sync, so the engine can treat a Salesforce Lead and a HubSpot contact alike. */
export type ObjectRole = 'contact' | 'company' | 'activity' | 'custom';

export interface ObjectCapability {
  /** The CRM's own object name: 'Contact', 'Lead', 'contacts', 'persons'. */
  name: string;
  label: string;
  role: ObjectRole;
  /** The CRM field holding the e-mail address used for matching (contacts only). */
  emailField?: string;
  /** Whether reading changes also reports deletions for this object. */
  reportsDeletions: boolean;
  /** Whether `upsertBatch` can match on the e-mail server-side (an idempotent create). */
  upsertByEmail: boolean;
  /**
   * Groups of fields the CRM writes only together: an update that sets one field of a group also carries the others'
   * known values (the engine adds them), so the connector need not read the record first to keep them. Pipedrive
   * writes a person's name whole, so `first_name` and `last_name` go together.
   */
  writtenTogether?: readonly (readonly string[])[];
}

/** The port's calls that reach the CRM, as rate limits and request counts name them. */
export type PortOperation =
  | 'describeObject'
  | 'readChanges'
  | 'listIds'
  | 'upsertBatch'
  | 'findByEmail'
  | 'findByField'
  | 'getRecords'
  | 'deleteRecords'
  | 'logActivities'
  | 'findCompanies'
  | 'associateRecords'
  | 'readAssociations'
  | 'registerWebhooks'
  | 'removeWebhooks';

/** The port's calls that take a list of items (records, e-mails, ids, activities). */
export type ItemOperation = Exclude<
  PortOperation,
  'describeObject' | 'readChanges' | 'registerWebhooks' | 'removeWebhooks' | 'listIds'
>;

export type RateLimitPolicy = (
  | /** N calls per rolling window (HubSpot 10 s, Pipedrive 2 s). */ {
      kind: 'window';
      limit: number;
      windowMs: number;
    }
  /** A daily allocation (Salesforce API requests, HubSpot daily, Pipedrive daily token budget). */
  | { kind: 'daily'; limit: number }
) & {
  /**
   * The operations whose requests this limit counts (HubSpot's search limit governs only the calls that search);
   * absent: every operation.
   */
  governs?: PortOperation[];
};

/**
 * How many HTTP requests one port call makes for `n` items: `ceil(n × requestsPerItem) + ceil(n / itemsPerRequest)`,
 * each part counted where given. Pipedrive's upsert is a search and a write per record (`requestsPerItem: 2`); its
 * e-mail look-up is a search per e-mail and a read per 100 matches (`requestsPerItem: 1, itemsPerRequest: 100`).
 */
export interface RequestCount {
  requestsPerItem?: number;
  itemsPerRequest?: number;
  /**
   * `upsertBatch` only: requests per record by what the record asks, where that differs. Pipedrive creates a person
   * the caller has matched by e-mail (`createsMatched`) with one request, but searches the e-mail first otherwise.
   * The budget charges the call this sum; `requestsPerItem` (the most a record can cost) still sizes slices.
   * `updatesPerRead`: the call first reads the records it updates, this many a request (Pipedrive merges e-mails
   * and phones into the person as it is, read 100 ids a request); charged as one read per that many updates.
   */
  perUpsert?: { update: number; create: number; matchedCreate: number; updatesPerRead?: number };
}

export interface ConnectorCapabilities {
  provider: ProviderId;
  displayName: string;
  /** How sync log lines name the CRM ("→ SF"); default `displayName`. */
  shortName?: string;
  objects: ObjectCapability[];
  /** Most records one `upsertBatch` takes (Salesforce Collections 200, HubSpot batch 100). */
  maxWriteBatch: number;
  /**
   * Records one HTTP request to the CRM writes, for rate budgeting; default `maxWriteBatch`. Pipedrive, which has no
   * batch endpoint, says 1: its `upsertBatch` makes one request per record.
   */
  writeRecordsPerRequest?: number;
  /**
   * Requests each list-taking operation makes, for rate budgeting, where it is not one per `writeRecordsPerRequest`
   * items. The budget charges what the CRM will count, so a call never spends more of a window than it reserved.
   */
  requestCounts?: Partial<Record<ItemOperation, RequestCount>>;
  /** Most records one read page returns. */
  maxReadPage: number;
  /** Most ids one `readAssociations` call takes; present only where the connector has that operation. */
  maxAssociationRead?: number;
  /** Calls one account may have in flight at once (used where there is no batch write). */
  maxConcurrency: number;
  rateLimits: RateLimitPolicy[];
  /**
   * The field mapping a connection starts with, per contact object (`objects[].name`): data beside the other
   * capabilities, so the engine needs no knowledge of any CRM's fields. An object without one is not synced.
   */
  defaultMappings: DefaultFieldMappings;
  /**
   * The contact fields an e-mail event sets, per contact object (`objects[].name`): data beside the mappings, so
   * the engine names no CRM field. An object or event without an entry is not written (the CRM cannot hold it).
   */
  emailStatusFields?: Readonly<Record<string, EmailStatusFields>>;
  /**
   * The company mapping a connection starts with, per company object (`objects[].name`, role 'company'), and the
   * contact objects each can be associated with. An object without one is not synced as a company.
   */
  defaultCompanyMappings?: DefaultCompanyMappings;
  webhooks: {
    supported: boolean;
    verification: 'hmac-sha256' | 'basic-auth' | 'none';
    /**
     * Where subscriptions live: `connection` — registered per connection through `registerWebhooks` (Pipedrive);
     * `app` — configured once in the CRM app's settings for every account (HubSpot), `subscriptions` naming them.
     * Absent: no change events.
     */
    registration?: 'connection' | 'app';
    /** The app-level subscriptions the product expects (HubSpot's `contact.creation`, …). */
    subscriptions?: readonly string[];
  };
  oauth: { pkce: boolean; defaultScopes: string[]; refreshRotates: boolean };
}

/** A value an e-mail event writes: a constant, or taken from the event (its reason, its time as ISO-8601 UTC). */
export type EmailStatusValue = string | boolean | { fromEvent: 'reason' | 'occurredAt' };

/** Field → value per event that marks a contact's address: a hard bounce, an unsubscribe. */
export interface EmailStatusFields {
  bounced?: Readonly<Record<string, EmailStatusValue>>;
  unsubscribed?: Readonly<Record<string, EmailStatusValue>>;
}

/**
 * What a connector receives for one call: an account's endpoint and a usable access token. Connectors never fetch
 * or decrypt credentials; the token vault hands this in and refreshes it when a call fails with AUTH_EXPIRED.
 */
export interface CrmSession {
  connectionId: string;
  accessToken: string;
  /** The account's API base where the CRM has one per account (Salesforce instance_url, Pipedrive api_domain). */
  instanceUrl?: string;
  accountId?: string;
  /** Aborts the call (run cancelled, client timeout). */
  signal?: AbortSignal;
  /**
   * Called by the connector with what each response's rate-limit headers said, so the shared budget follows the
   * CRM's own count (connectors parse headers with connector-kit's `parseRateLimitHeaders`).
   */
  onRateLimit?: (observation: RateLimitObservation) => void;
}

/** What a CRM response said about its limits (HubSpot X-HubSpot-RateLimit-*, Sforce-Limit-Info, x-ratelimit-*). */
export interface RateLimitObservation {
  windowLimit?: number;
  windowRemaining?: number;
  /** Milliseconds until the current window resets. */
  windowResetMs?: number;
  /** The window's length, where the CRM says it. */
  windowMs?: number;
  dailyLimit?: number;
  dailyRemaining?: number;
  /** Milliseconds until the daily allocation refills, where the CRM says it. */
  dailyResetMs?: number;
  /** The CRM asked for a pause (429 Retry-After). */
  retryAfterMs?: number;
}

// ---- OAuth ----------------------------------------------------------------------------------------------------

export interface AuthorizeUrlRequest {
  state: string;
  redirectUri: string;
  scopes?: string[];
  /** S256 code challenge, sent only where the CRM supports PKCE. */
  codeChallenge?: string;
}

export interface CodeExchangeRequest {
  code: string;
  redirectUri: string;
  codeVerifier?: string;
}

export interface TokenSet {
  accessToken: string;
  /** Absent when the CRM keeps the old refresh token (Zoho) — the vault then keeps the one it has. */
  refreshToken?: string;
  expiresAt?: Date;
  scope?: string;
  instanceUrl?: string;
  /** The CRM account (org, portal, company) the tokens belong to. */
  account: { id: string; name?: string; userId?: string };
}

// ---- Describe -------------------------------------------------------------------------------------------------

export type FieldType =
  | 'string'
  | 'text'
  | 'email'
  | 'phone'
  | 'url'
  | 'number'
  | 'boolean'
  | 'date'
  | 'datetime'
  | 'picklist'
  | 'multipicklist'
  | 'reference'
  | 'id'
  | 'other';

export interface FieldDescriptor {
  name: string;
  label: string;
  type: FieldType;
  /** The CRM's own type name, for display ('STRING', 'enumeration', 'varchar'). */
  crmType: string;
  required: boolean;
  readOnly: boolean;
  custom: boolean;
  options?: { value: string; label: string }[];
}

// ---- Reading changes ------------------------------------------------------------------------------------------

/**
 * The incremental cursor: (modification time, record id). Reading restarts at `modifiedAt` (with a small overlap)
 * and skips ids at that instant already seen, so thousands of records sharing one timestamp are never lost.
 */
export interface SyncCursor {
  /** ISO-8601 UTC. */
  modifiedAt: string;
  /** The greatest record id seen at exactly `modifiedAt`. */
  lastId?: string;
  /**
   * When the read that reached this cursor started (ISO-8601 UTC, the engine's clock). Every record modified more
   * than the CRM's index lag before it was visible to that read, so the next read need not look back past that.
   */
  readAt?: string;
}

export interface CrmRecord {
  id: string;
  object: string;
  /** ISO-8601 UTC modification time as the CRM reports it. */
  modifiedAt: string;
  createdAt?: string;
  fields: Record<string, unknown>;
  /** Ids of associated records by object (HubSpot contact → companies, Pipedrive person → organization). */
  associations?: Record<string, string[]>;
}

export interface DeletedRecord {
  id: string;
  object: string;
  deletedAt: string;
}

export interface ReadChangesRequest {
  object: string;
  /** null: read everything (first sync). */
  since: SyncCursor | null;
  /** The opaque token from the previous page of the same read; absent for the first page. */
  pageToken?: string;
  /** Fields to return; absent: the connector's default set for the object. */
  fields?: string[];
  pageSize?: number;
  /**
   * The associated objects whose ids the records should carry (`CrmRecord.associations`); absent: every one the
   * connector reads. A connector that reads associations with requests of their own (`readAssociations`) makes
   * only these, so a caller that reads them itself across pages (the sync's gateway) passes [].
   */
  associations?: string[];
}

/** One page of changes. The shared paginator loops pages; a connector returns exactly one. */
export interface ChangePage {
  records: CrmRecord[];
  deleted: DeletedRecord[];
  /** Absent on the last page. */
  nextPageToken?: string;
}

// ---- Listing ids (reconcile) -----------------------------------------------------------------------------------

/**
 * One page of an id listing: the cheapest read a CRM has of which records exist and when each last changed, for
 * the reconcile that compares both sides. Live records only (deleted ones are absent), in no promised order.
 */
export interface ListIdsRequest {
  object: string;
  /** Only records modified at or after this instant (ISO-8601 UTC); absent: every live record. */
  modifiedSince?: string;
  /** The opaque token from the previous page of the same listing; absent for the first page. */
  pageToken?: string;
  pageSize?: number;
}

export interface RecordStamp {
  id: string;
  /** ISO-8601 UTC modification time as the CRM reports it (the same field `readChanges` reports). */
  modifiedAt: string;
}

export interface IdPage {
  ids: RecordStamp[];
  /** Absent on the last page. */
  nextPageToken?: string;
}

// ---- Writing --------------------------------------------------------------------------------------------------

export interface UpsertInput {
  /** The caller's key for this record (the local id or e-mail); results are matched back by it. */
  key: string;
  /** Known CRM id: update. Absent: create, or update the record matched by e-mail where the CRM supports it. */
  crmId?: string;
  fields: Record<string, unknown>;
}

export interface UpsertBatchRequest {
  object: string;
  records: UpsertInput[];
  /**
   * Who makes sure a create never duplicates. Absent or false: the connector does (it looks each create up by its
   * matching key, or uses a CRM upsert keyed by it). True: the caller has just looked every create up by e-mail and
   * found none, so the connector creates without a look-up of its own — one CRM call less per batch. The caller sets
   * it only on a first attempt: a retry after an ambiguous failure (a lost response, a reset connection) sends false,
   * so a create the CRM applied the first time is found instead of made twice. Companies have no e-mail to look
   * a create up by: the caller looks them up with `findCompanies` before the first attempt and again before a
   * retry, and always sends true.
   */
  createsMatched?: boolean;
}

export type UpsertResult =
  | { key: string; ok: true; crmId: string; created: boolean; modifiedAt?: string }
  | { key: string; ok: false; error: RecordError };

export interface RecordError {
  code: import('./errors').CrmErrorCode;
  /** The CRM's own message, verbatim. */
  message: string;
  field?: string;
  crmCode?: string;
}

export interface GetRecordsRequest {
  object: string;
  ids: string[];
  /** Fields to return; absent: the connector's default set for the object. */
  fields?: string[];
  /** As `ReadChangesRequest.associations`: the associated objects whose ids to fill in; absent: every one. */
  associations?: string[];
}

/** The ids of the `toObject` records each of `ids` is associated with (see `IntegrationPort.readAssociations`). */
export interface ReadAssociationsRequest {
  object: string;
  toObject: string;
  ids: string[];
}

export interface DeleteRecordsRequest {
  object: string;
  ids: string[];
}

/**
 * Records whose `field` holds one of `values`: the look-up of a matching key other than the connector's own e-mail
 * field (a custom external id, a second e-mail field).
 */
export interface FindByFieldRequest {
  object: string;
  /** The CRM's own field name (a custom field included). */
  field: string;
  /**
   * The wanted values as text. Compared exactly, except where the CRM itself compares the field without regard to
   * case (e-mail fields): there case is ignored, as the CRM does.
   */
  values: string[];
  /** Fields to return besides `field`; absent: the connector's default set for the object. */
  fields?: string[];
}

/**
 * Company records to look up before creating one, so a company is never made twice: those whose name equals one
 * of `names` (case-insensitively) or whose domain (a web address's host) is one of `domains`. The connector may
 * answer near matches (a name search); the caller keeps only exact ones.
 */
export interface FindCompaniesRequest {
  object: string;
  names: string[];
  /** Bare lower-cased domains; ignored where the CRM cannot search its company domain field. */
  domains: string[];
  /** Fields to return; absent: the connector's default set for the object. */
  fields?: string[];
}

/** Associates each record of `object` with one record of `toObject` (a contact with its company). */
export interface AssociateRecordsRequest {
  object: string;
  toObject: string;
  pairs: { id: string; toId: string }[];
}

/** One result per pair, in order, keyed by the associated record's id (`pairs[].id`). */
export type AssociateResult = { id: string; ok: true } | { id: string; ok: false; error: RecordError };

/** A record already gone counts as deleted (`ok: true`): deleting is idempotent. */
export type DeleteResult = { id: string; ok: true } | { id: string; ok: false; error: RecordError };

// ---- Activities -----------------------------------------------------------------------------------------------

export type ActivityKind =
  | 'email_sent'
  | 'email_received'
  | 'email_opened'
  | 'email_clicked'
  | 'email_replied'
  | 'email_bounced';

export interface ActivityInput {
  /** Idempotency key from PenguinMails (message id + event); a redelivered activity is not logged twice. */
  key: string;
  kind: ActivityKind;
  occurredAt: string;
  subject?: string;
  bodyText?: string;
  from?: string;
  to?: string[];
  /** The CRM record the activity belongs to. */
  contact: { crmId: string; object: string; email: string };
  companyCrmId?: string;
  /**
   * The CRM record this activity already is (from an earlier delivery): the connector updates that record instead
   * of creating one. Used for a message's roll-up record, which every later open or click updates.
   */
  crmId?: string;
  /** A message's opens and clicks so far, for the roll-up record (its text is in `bodyText`). */
  engagement?: ActivityEngagement;
}

export interface ActivityEngagement {
  opens: number;
  clicks: number;
  /** ISO-8601 UTC time of the latest open or click. */
  lastEventAt: string;
}

export type ActivityResult =
  | { key: string; ok: true; crmId: string }
  | { key: string; ok: false; error: RecordError };

// ---- Webhooks -------------------------------------------------------------------------------------------------

export interface WebhookRequest {
  method: string;
  /** Full URL the CRM called, as it signed it. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
  receivedAt: Date;
}

export interface WebhookSecrets {
  /** HMAC secret (HubSpot client secret) or basic-auth password (Pipedrive). */
  secret: string;
  username?: string;
}

/** Webhooks to create at the CRM for one connection, calling back `url` with HTTP Basic `username`/`password`. */
export interface RegisterWebhooksRequest {
  url: string;
  username: string;
  password: string;
  /** The CRM objects to hear about (`persons`, `organizations`). */
  objects: string[];
}

export interface RegisteredWebhooks {
  /** The CRM's ids of the webhooks created, for `removeWebhooks`; empty where the CRM has none per connection. */
  ids: string[];
}

export interface WebhookEvent {
  /** The CRM account the event belongs to (portalId, company_id). */
  accountId: string;
  object: string;
  recordId: string;
  action: 'created' | 'updated' | 'deleted' | 'merged' | 'other';
  occurredAt: string;
  changedFields?: string[];
  eventId?: string;
}

/** One change a CRM's change stream reported (Salesforce Change Data Capture over the Streaming API). */
export interface StreamedChange {
  /** The stream channel it came on; positions are kept per channel. */
  channel: string;
  /** The CRM's own object name. */
  object: string;
  /** May be empty for a gap that names no record (the whole object must be read again). */
  recordIds: string[];
  action: WebhookEvent['action'];
  /** The CRM could not describe the change (a CDC GAP_* event): read the current state instead. */
  gap: boolean;
  changedFields: string[];
  /** When the CRM committed the change (ISO 8601). */
  occurredAt: string;
  /** The stream position of this change (a replay id), to resume after it. */
  position: string;
}

/** Why a change stream stopped delivering; the subscriber decides what to do (refresh, resume, fall back). */
export interface ChangeStreamFailure {
  /** auth: the session died (refresh and subscribe again); invalid_position: the stored position is unknown or
   * expired (a gap); handler: `onChange` threw; stream: any other subscribe or transport failure. */
  kind: 'auth' | 'invalid_position' | 'handler' | 'stream';
  channel?: string;
  message: string;
}

export interface SubscribeChangesRequest {
  /** The CRM's object names to follow. */
  objects: string[];
  /**
   * Where each channel resumes: a `position` from an earlier change (delivered again from the one after it),
   * 'all' for every retained change, or absent for new changes only.
   */
  from: Readonly<Record<string, string>>;
  /** Where a channel without an entry in `from` starts: 'new' (default) or 'all' retained changes. */
  defaultFrom?: 'new' | 'all';
  /** Called once per change, one at a time per channel, in stream order; the next waits for this to settle. */
  onChange(change: StreamedChange): Promise<void>;
  onFailure(failure: ChangeStreamFailure): void;
}

export interface ChangeSubscription {
  readonly channels: string[];
  /** Settles when every channel's subscription is acknowledged (rejects when one is refused). */
  readonly ready: Promise<void>;
  /** Disconnects and waits until the change being handled, if any, is done. */
  stop(): Promise<void>;
}
