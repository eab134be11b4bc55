import type { ObjectCapability } from '@pm/integration-port';

export const HUBSPOT_PROVIDER = 'hubspot';

/** Where the connector talks to HubSpot (or its sandbox), and how. */
export interface HubSpotConnectorConfig {
  clientId: string;
  clientSecret: string;
  /** The API base for every call, OAuth token calls included. Default https://api.hubapi.com. */
  apiBaseUrl?: string;
  /**
   * The consent page. Default https://app.hubspot.com/oauth/authorize. The SDK's own helper is hard-wired to
   * app.hubspot.com, so the connector builds the URL itself and a sandbox can be targeted.
   */
  authorizeUrl?: string;
  /** Scopes asked for; default `HUBSPOT_DEFAULT_SCOPES`. */
  scopes?: string[];
  /** Scopes asked for as `optional_scope` (granted only where the portal's tier has them). */
  optionalScopes?: string[];
  /** A call taking longer than this fails with TIMEOUT. Default 30 s. */
  requestTimeoutMs?: number;
  /**
   * How far before the cursor an incremental read starts, for records committed with a slightly older
   * modification time (and HubSpot's search index lag, a few seconds, and clock skew). Default 10 s. A read never
   * looks back past the previous read's start less this lag (the cursor's `readAt`): what was older was visible to
   * that read.
   */
  readOverlapMs?: number;
  /** Whether incremental reads report records moved to the recycle bin (one list scan per read). Default true. */
  reportDeletions?: boolean;
  /** The custom e-mail property that holds PenguinMails' activity key. Default `penguinmails_activity_key`. */
  activityKeyProperty?: string;
}

export const HUBSPOT_API_BASE_URL = 'https://api.hubapi.com';
export const HUBSPOT_AUTHORIZE_URL = 'https://app.hubspot.com/oauth/authorize';
export const HUBSPOT_DEFAULT_TIMEOUT_MS = 30_000;
export const HUBSPOT_DEFAULT_READ_OVERLAP_MS = 10_000;
export const HUBSPOT_DEFAULT_ACTIVITY_KEY_PROPERTY = 'penguinmails_activity_key';

/** Batch endpoints take at most 100 inputs. */
export const HUBSPOT_MAX_BATCH = 100;
/** Search pages hold at most 200 results. */
export const HUBSPOT_MAX_SEARCH_PAGE = 200;
/** Ids one v4 associations batch read takes (`POST /crm/v4/associations/{from}/{to}/batch/read`). */
export const HUBSPOT_MAX_ASSOCIATION_READ = 1_000;
/** The plain list endpoint (used for the recycle bin) pages at most 100. */
export const HUBSPOT_MAX_LIST_PAGE = 100;
/** A search can page through at most this many results (`after` ≥ 10,000 is refused with a 400). */
export const HUBSPOT_SEARCH_RESULT_CAP = 10_000;

export const HUBSPOT_DEFAULT_SCOPES = [
  'oauth',
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.objects.companies.read',
  'crm.objects.companies.write',
  'crm.schemas.contacts.read',
  'crm.schemas.companies.read',
];

/** What the connector knows per object: its modification-time property and default read fields. */
export interface HubSpotObjectInfo {
  capability: ObjectCapability;
  /** The datetime property search filters and sorts on (contacts differ from every other object). */
  modifiedProperty: string;
  createdProperty: string;
  defaultProperties: string[];
  /** Associations read with each page of changes (v4 batch read). */
  associatedObjects: string[];
}

export const HUBSPOT_OBJECTS: Readonly<Record<string, HubSpotObjectInfo>> = {
  contacts: {
    capability: {
      name: 'contacts',
      label: 'Contacts',
      role: 'contact',
      emailField: 'email',
      reportsDeletions: true,
      upsertByEmail: true,
    },
    modifiedProperty: 'lastmodifieddate',
    createdProperty: 'createdate',
    defaultProperties: ['email', 'firstname', 'lastname', 'phone', 'company', 'jobtitle', 'lifecyclestage'],
    associatedObjects: ['companies'],
  },
  companies: {
    capability: {
      name: 'companies',
      label: 'Companies',
      role: 'company',
      reportsDeletions: true,
      upsertByEmail: false,
    },
    modifiedProperty: 'hs_lastmodifieddate',
    createdProperty: 'createdate',
    defaultProperties: ['name', 'domain', 'website', 'phone', 'city', 'country', 'industry'],
    associatedObjects: [],
  },
  emails: {
    capability: {
      name: 'emails',
      label: 'Emails',
      role: 'activity',
      reportsDeletions: true,
      upsertByEmail: false,
    },
    modifiedProperty: 'hs_lastmodifieddate',
    createdProperty: 'hs_createdate',
    defaultProperties: [
      'hs_timestamp',
      'hs_email_direction',
      'hs_email_status',
      'hs_email_subject',
      'hs_email_text',
    ],
    associatedObjects: ['contacts'],
  },
};

/** The object's info; undefined for an object this connector does not handle. */
export function objectInfo(object: string): HubSpotObjectInfo | undefined {
  return Object.prototype.hasOwnProperty.call(HUBSPOT_OBJECTS, object) ? HUBSPOT_OBJECTS[object] : undefined;
}
