import type { DefaultCompanyMappings } from '../company-mapping';
import type { DefaultFieldMappings } from '../field-mapping';

/** What a connector declares about its CRM as data: objects, limits, request counts, sessions. */

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
  | {
      kind: 'daily';
      /** The allocation to plan with until the CRM's headers report the account's own. */
      limit: number;
      /**
       * Spend the allocation no faster than its even spread over the day, at most `burst` calls at a time: a rolling
       * window of `burst` calls per `burst / (allocation / 24 h)`, sized from the allocation the CRM last reported.
       * For a CRM whose only limit is a daily allocation (Salesforce), so that one connection's large sync or a loop
       * cannot use up, in minutes, an allocation the account's other integrations share. Absent: no pace.
       */
      spread?: { burst: number };
    }
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
