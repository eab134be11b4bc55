import type { CrmRecord, CrmSession } from '@pm/integration-port';
import type { ContractFixture, StagedContact, StagingOptions } from '@pm/integration-port/testing';
import {
  approveAuthorization,
  createSalesforceSandbox,
  SALESFORCE_DEFAULT_CUSTOM_FIELDS,
  type SalesforceRecord,
  type SalesforceSandbox,
} from '@pm/sandboxes';
import { SalesforceConnector, type SalesforceConnectorConfig } from '../src';

export const REDIRECT_URI = 'http://127.0.0.1:9/oauth/salesforce/callback';
export const ACTIVITY_KEY_FIELD = 'PenguinMails_Activity_Key__c';
const CLIENT_ID = 'pm-connector-test';
const CLIENT_SECRET = 'pm-connector-secret';

/** A Salesforce sandbox with a unique activity-key field on Task, as the PenguinMails package installs it. */
export async function startSalesforceSandbox(): Promise<SalesforceSandbox> {
  const sandbox = createSalesforceSandbox({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    customFields: {
      ...SALESFORCE_DEFAULT_CUSTOM_FIELDS,
      Task: [
        {
          name: ACTIVITY_KEY_FIELD,
          label: 'PenguinMails activity key',
          type: 'string',
          length: 255,
          externalId: true,
          unique: true,
        },
      ],
    },
  });
  await sandbox.start();
  return sandbox;
}

export function connectorFor(
  sandbox: SalesforceSandbox,
  overrides: Partial<SalesforceConnectorConfig> = {},
): SalesforceConnector {
  return new SalesforceConnector({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    loginUrl: sandbox.loginUrl,
    activityKeyField: ACTIVITY_KEY_FIELD,
    ...overrides,
  });
}

/** The user's part of the web server flow against the sandbox's real consent page, then our code exchange. */
export async function connect(
  sandbox: SalesforceSandbox,
  connector: SalesforceConnector,
): Promise<CrmSession & { refreshToken?: string }> {
  const authorizeUrl = connector.buildAuthorizeUrl({ state: 'fixture', redirectUri: REDIRECT_URI });
  const redirect = await approveAuthorization(authorizeUrl);
  const tokens = await connector.exchangeCode({ code: redirect.code as string, redirectUri: REDIRECT_URI });
  return {
    connectionId: 'salesforce-test-connection',
    accessToken: tokens.accessToken,
    instanceUrl: tokens.instanceUrl,
    accountId: tokens.account.id,
    refreshToken: tokens.refreshToken,
  };
}

/** Runs a CRM-side change at a given instant of the sandbox clock, then gives the clock back to real time. */
export function atInstant<T>(sandbox: SalesforceSandbox, at: string | undefined, change: () => T): T {
  if (at === undefined) return change();
  sandbox.clock.freeze();
  sandbox.clock.set(at);
  try {
    return change();
  } finally {
    sandbox.clock.reset();
  }
}

export function asCrmRecord(record: SalesforceRecord, object = 'Contact'): CrmRecord {
  return {
    id: record.id,
    object,
    modifiedAt: new Date(String(record.fields.SystemModstamp).replace('+0000', 'Z')).toISOString(),
    fields: { ...record.fields },
  };
}

export function contactRow(contact: StagedContact): Record<string, unknown> {
  return { Email: contact.email, FirstName: contact.firstName, LastName: contact.lastName };
}

/** The contract kit's fixture: the connector against a sandbox over HTTP, a session from a real OAuth dance. */
export async function createContractFixture(): Promise<ContractFixture> {
  const sandbox = await startSalesforceSandbox();
  const port = connectorFor(sandbox);
  let session: CrmSession | undefined;
  return {
    port,
    session: async () => (session ??= await connect(sandbox, port)),
    contact: { object: 'Contact', fields: { email: 'Email', firstName: 'FirstName', lastName: 'LastName' } },
    oauth: { redirectUri: REDIRECT_URI },
    // Every look-up the connector makes is a SOQL query.
    requests: {
      reset: () => sandbox.counters.reset(),
      lookups: () => sandbox.counters.countWhere((key) => /^GET \S+\/query(All)?$/.test(key)),
    },
    readPageSize: 100,
    staging: {
      createContacts: async (contacts: StagedContact[], options?: StagingOptions) =>
        sandbox
          .stageRecords('Contact', contacts.map(contactRow), {
            timestamp: options?.at === undefined ? undefined : new Date(options.at),
          })
          .map((record) => asCrmRecord(record)),
      editContact: async (id: string, fields: Record<string, unknown>, options?: StagingOptions) =>
        asCrmRecord(atInstant(sandbox, options?.at, () => sandbox.editInCrm('Contact', id, fields))),
      deleteContact: async (id: string, options?: StagingOptions) =>
        atInstant(sandbox, options?.at, () => sandbox.deleteInCrm('Contact', id)),
      readContact: async (id: string) => {
        const record = sandbox.org.findById(id)?.record;
        return record === undefined ? undefined : asCrmRecord(record);
      },
      invalidContact: (validFields: Record<string, unknown>) => ({
        fields: { ...validFields, Email: 'not-an-email' },
        message: 'Email: invalid email address: not-an-email',
        field: 'Email',
      }),
    },
    close: () => sandbox.stop(),
  };
}
