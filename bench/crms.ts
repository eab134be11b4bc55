import { Client as HubSpotClient } from '@hubspot/api-client';
import { Connection as JsforceConnection } from 'jsforce';
import { HUBSPOT_DEFAULT_READ_OVERLAP_MS, HubSpotConnector } from '@pm/connectors/hubspot';
import { PipedriveConnector } from '@pm/connectors/pipedrive';
import { SALESFORCE_SPREAD_BURST, SalesforceConnector } from '@pm/connectors/salesforce';
import type { IntegrationPort } from '@pm/integration-port';
import {
  createHubSpotSandbox,
  createPipedriveSandbox,
  createSalesforceSandbox,
  type HubSpotSandbox,
  type PipedriveSandbox,
  type RateLimiter,
  type SalesforceSandbox,
  type SandboxServer,
} from '@pm/sandboxes';

/** One contact as the benchmark writes it on either side. */
export interface BenchPerson {
  email: string;
  firstName: string;
  lastName: string;
}

/** Facts of a CRM's API the fewest possible calls of a run depend on. */
export interface BenchReads<S extends SandboxServer = SandboxServer> {
  /** Modification times carry milliseconds: the run's own unchanged writes can be told from edits. */
  subSecondStamps: boolean;
  /** Deletions are not in the change read: an incremental read lists them apart (one page). */
  deletionListing: boolean;
  /**
   * The change read looks back over the CRM's index lag (HubSpot's search): what changed just before a read comes
   * back once more in the next.
   */
  rereadsIndexLag: boolean;
  /** Companies that contacts belong to (the associated records the default mapping reads a name from). */
  companiesWithContacts(sandbox: S): number;
}

/** A CRM's documented limit, as the sandbox enforces it in the "at the real limits" case. */
export interface RealLimit {
  /** Human description for the table. */
  describe: string;
  /** Requests per second the limit allows over a long run. */
  requestsPerSecond: number;
  /** Requests per second it allows a change read (HubSpot's search limit), where that is lower; absent: the same. */
  readRequestsPerSecond?: number;
}

/**
 * What the benchmark needs to know about one CRM: its sandbox, its connector pointed at it, how a user edits a record
 * there, its documented limits, and the naive one-call-per-record export with the CRM's official SDK (the peer).
 * Every handle here is a public one: the sandbox's staging helpers and rate limiters, the connector package's entry.
 */
export interface BenchCrm<S extends SandboxServer = SandboxServer> {
  id: 'salesforce' | 'hubspot' | 'pipedrive';
  label: string;
  /** The CRM object the contacts sync with (the connection's `objects`). */
  object: string;
  createSandbox(): S;
  connector(sandbox: S): IntegrationPort;
  /** Creates `count` contacts in the CRM (no API calls counted). */
  seed(sandbox: S, count: number): void;
  /** Ids of the live contact records in the CRM. */
  ids(sandbox: S): string[];
  /** How the CRM's reads are shaped, for the fewest calls a run can make (`bench/minimum.ts`). */
  reads: BenchReads<S>;
  /** A user edits one contact's last name in the CRM. */
  edit(sandbox: S, id: string, lastName: string): void;
  /** Every limiter that can answer 429 (HubSpot's search has its own). */
  limiters(sandbox: S): RateLimiter[];
  /** Makes the sandbox enforce the CRM's documented limits; returns what it enforces. */
  enforceRealLimits(sandbox: S): RealLimit;
  /** The naive export: one official-SDK create per person, one after the other. */
  naiveExport(sandbox: S, people: BenchPerson[]): Promise<void>;
  /**
   * How long the CRM may take to show a write to a change read (HubSpot's search index lag, as its connector
   * allows for it). The incremental run starts that long after the first sync, as a scheduled run would; until then a
   * read must look back over the write again. Absent: none.
   */
  indexLagMs?: number;
  /** How the CRM's change events reach the service (absent: the benchmark has no real-time case for it). */
  realtime?: BenchRealtime<S>;
}

export interface BenchCrmContact {
  id: string;
  email?: string;
  lastName?: string;
}

/** A CRM's change events, as the real-time case needs them. */
export interface BenchRealtime<S extends SandboxServer = SandboxServer> {
  /**
   * Points the CRM's webhooks at the service, where the CRM keeps them per app (HubSpot's app settings); absent
   * where the service registers them itself when real-time is turned on (Pipedrive).
   */
  subscribe?(sandbox: S, serviceUrl: string): void;
  /** Every live contact record's id, e-mail and last name as the CRM holds them now (in process, no API call). */
  contacts(sandbox: S): BenchCrmContact[];
}

/** API requests a day of the Salesforce org the benchmark models (5 a second spread evenly). */
const SALESFORCE_DAILY_ALLOCATION = 5 * 86_400;

const salesforce: BenchCrm<SalesforceSandbox> = {
  id: 'salesforce',
  label: 'Salesforce',
  object: 'Contact',
  // The org the benchmark models: 432,000 API requests a day (5 a second spread evenly; an Enterprise org with ~330
  // licences), reported in `Sforce-Limit-Info`. The service paces to that allocation's even spread.
  createSandbox: () => createSalesforceSandbox({ seed: 11, dailyApiLimit: SALESFORCE_DAILY_ALLOCATION }),
  connector: (sandbox) =>
    new SalesforceConnector({
      clientId: sandbox.oauth.clientId,
      clientSecret: sandbox.oauth.clientSecret,
      loginUrl: sandbox.baseUrl,
    }),
  seed: (sandbox, count) => void sandbox.seedContacts(count),
  ids: (sandbox) => sandbox.records('Contact').map((record) => record.id),
  // SystemModstamp in whole seconds; queryAll returns deleted rows with the changes; the account name comes with
  // the contact's own query.
  reads: {
    subSecondStamps: false,
    deletionListing: false,
    rereadsIndexLag: false,
    companiesWithContacts: () => 0,
  },
  edit: (sandbox, id, lastName) => void sandbox.editInCrm('Contact', id, { LastName: lastName }),
  limiters: (sandbox) => [sandbox.rateLimiter],
  enforceRealLimits: (sandbox) => {
    // Salesforce limits API calls only by the org's daily allocation (no per-second limit), which the service spends
    // no faster than its even spread, in bursts of up to 100 calls. The stand-in refuses (403 REQUEST_LIMIT_EXCEEDED)
    // any call past that spread: at most 100 in any 20 s, 5 a second over a long run.
    const perSecond = SALESFORCE_DAILY_ALLOCATION / 86_400;
    sandbox.rateLimiter.configure(
      {
        limit: SALESFORCE_SPREAD_BURST,
        windowMs: (SALESFORCE_SPREAD_BURST / perSecond) * 1_000,
        dailyLimit: SALESFORCE_DAILY_ALLOCATION,
        enforce: true,
      },
      true,
    );
    return {
      describe: `${SALESFORCE_DAILY_ALLOCATION.toLocaleString('en-US')}/day (100 per 20 s)`,
      requestsPerSecond: perSecond,
    };
  },
  naiveExport: async (sandbox, people) => {
    const tokens = sandbox.oauth.issueTokensDirectly();
    const connection = new JsforceConnection({
      instanceUrl: sandbox.baseUrl,
      accessToken: tokens.accessToken,
      version: '59.0',
    });
    for (const person of people) {
      await connection.sobject('Contact').create({
        Email: person.email,
        FirstName: person.firstName,
        LastName: person.lastName,
      });
    }
  },
};

const hubspot: BenchCrm<HubSpotSandbox> = {
  id: 'hubspot',
  label: 'HubSpot',
  object: 'contacts',
  indexLagMs: HUBSPOT_DEFAULT_READ_OVERLAP_MS,
  createSandbox: () => createHubSpotSandbox({ seed: 12 }),
  connector: (sandbox) =>
    new HubSpotConnector({
      clientId: sandbox.oauth.clientId,
      clientSecret: sandbox.oauth.clientSecret,
      apiBaseUrl: sandbox.baseUrl,
      authorizeUrl: `${sandbox.baseUrl}/oauth/authorize`,
    }),
  // Contacts already in the CRM (imported an hour ago), not written the instant before the first read.
  seed: (sandbox, count) => void sandbox.seedContacts(count, { at: new Date(Date.now() - 3_600_000) }),
  ids: (sandbox) => sandbox.records('contacts').map((record) => record.id),
  // lastmodifieddate to the millisecond; search never returns archived records (the recycle bin is listed apart).
  reads: {
    subSecondStamps: true,
    deletionListing: true,
    rereadsIndexLag: true,
    companiesWithContacts: (sandbox) => sandbox.records('companies').length,
  },
  edit: (sandbox, id, lastName) => void sandbox.editInCrm('contacts', id, { lastname: lastName }),
  limiters: (sandbox) => [sandbox.rateLimiter, sandbox.searchRateLimiter],
  realtime: {
    subscribe: (sandbox, serviceUrl) => void sandbox.subscribeWebhooks(`${serviceUrl}/webhooks/hubspot`),
    contacts: (sandbox) =>
      sandbox.records('contacts').map((record) => ({
        id: record.id,
        email: record.properties.email,
        lastName: record.properties.lastname,
      })),
  },
  enforceRealLimits: (sandbox) => {
    // A public OAuth app: 110 requests per rolling 10 s per account; search 5 per second on its own counter.
    sandbox.rateLimiter.configure({ limit: 110, windowMs: 10_000, enforce: true }, true);
    sandbox.searchRateLimiter.configure({ limit: 5, windowMs: 1_000, enforce: true }, true);
    return { describe: '110 req/10 s, search 5/s', requestsPerSecond: 11, readRequestsPerSecond: 5 };
  },
  naiveExport: async (sandbox, people) => {
    const tokens = sandbox.oauth.issueTokensDirectly();
    const client = new HubSpotClient({ accessToken: tokens.accessToken, basePath: sandbox.baseUrl });
    for (const person of people) {
      await client.crm.contacts.basicApi.create({
        properties: { email: person.email, firstname: person.firstName, lastname: person.lastName },
        associations: [],
      });
    }
  },
};

const pipedrive: BenchCrm<PipedriveSandbox> = {
  id: 'pipedrive',
  label: 'Pipedrive',
  object: 'persons',
  createSandbox: () => createPipedriveSandbox({ seed: 13 }),
  connector: (sandbox) =>
    new PipedriveConnector({
      clientId: sandbox.oauth.clientId,
      clientSecret: sandbox.oauth.clientSecret,
      oauthBaseUrl: sandbox.baseUrl,
      apiBaseUrl: sandbox.baseUrl,
    }),
  seed: (sandbox, count) => void sandbox.seedContacts(count),
  ids: (sandbox) => sandbox.records('persons').map((record) => String(record.id)),
  // update_time in whole seconds; the persons listing names deleted ones; organizations are read by id, 100 a request.
  reads: {
    subSecondStamps: false,
    deletionListing: false,
    rereadsIndexLag: false,
    companiesWithContacts: (sandbox) => sandbox.records('organizations').length,
  },
  // Pipedrive writes a person's name whole and derives first_name/last_name from it (last_name alone is read-only):
  // a user changing the last name edits `name`, the first name kept.
  edit: (sandbox, id, lastName) => {
    // The one person, not all of them: at 1,000 edits a minute, building every person's API shape per edit took
    // most of the process the service shares with the benchmark.
    const current = sandbox.record('persons', id);
    if (!current) throw new Error(`no Pipedrive person ${id}`);
    const firstName = (current.first_name as string | null) ?? '';
    void sandbox.editInCrm('persons', id, { name: `${firstName} ${lastName}`.trim() });
  },
  limiters: (sandbox) => [sandbox.rateLimiter],
  realtime: {
    contacts: (sandbox) =>
      sandbox.records('persons').map((record) => ({
        id: String(record.id),
        email: (record.emails as Array<{ value: string }> | undefined)?.[0]?.value,
        lastName: (record.last_name as string | null) ?? undefined,
      })),
  },
  enforceRealLimits: (sandbox) => {
    // The burst limit of the lowest plan: 80 requests per rolling 2 s per company (token budget left out).
    sandbox.rateLimiter.configure({ limit: 80, windowMs: 2_000, enforce: true }, true);
    return { describe: '80 req/2 s', requestsPerSecond: 40 };
  },
  naiveExport: async (sandbox, people) => {
    // The official `pipedrive` SDK's v2 client is a thin generated wrapper; plain fetch is what most integrations do.
    const tokens = sandbox.oauth.issueTokensDirectly();
    for (const person of people) {
      const response = await fetch(`${sandbox.baseUrl}/api/v2/persons`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: `${person.firstName} ${person.lastName}`,
          emails: [{ value: person.email, primary: true, label: 'work' }],
        }),
      });
      if (!response.ok) throw new Error(`Pipedrive POST /api/v2/persons answered ${response.status}`);
      await response.arrayBuffer();
    }
  },
};

export const BENCH_CRMS: readonly BenchCrm[] = [
  salesforce as unknown as BenchCrm,
  hubspot as unknown as BenchCrm,
  pipedrive as unknown as BenchCrm,
];

export function benchCrm(id: string): BenchCrm {
  const crm = BENCH_CRMS.find((candidate) => candidate.id === id);
  if (!crm) throw new Error(`unknown CRM "${id}" (salesforce, hubspot, pipedrive)`);
  return crm;
}
