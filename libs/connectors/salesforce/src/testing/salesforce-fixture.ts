import type { CrmRecord, CrmSession } from '@pm/integration-port';
import type { ContractFixture, StagedContact, StagingOptions } from '@pm/integration-port/testing';
import {
  createSalesforceSandbox,
  SALESFORCE_DEFAULT_CUSTOM_FIELDS,
  type SalesforceRecord,
  type SalesforceSandbox,
} from '@pm/sandboxes';
import { signInToSandbox, startSandboxTestBed, type SandboxTestBed } from '@pm/sandboxes/testing';
import type { TokenSet } from '@pm/integration-port';
import type { SalesforceConnectorConfig } from '../config';
import { SalesforceConnector } from '../connector';

export const REDIRECT_URI = 'http://127.0.0.1:9/oauth/salesforce/callback';
export const ACTIVITY_KEY_FIELD = 'PenguinMails_Activity_Key__c';
/** A contact's key in another system: an external id (so Salesforce indexes it), not unique (two may share one). */
export const EXTERNAL_KEY_FIELD = 'External_Key__c';
const CLIENT_ID = 'pm-connector-test';
const CLIENT_SECRET = 'pm-connector-secret';

/**
 * A Salesforce sandbox with a unique activity-key field on Task, as the PenguinMails package installs it, and an
 * admin's own external key on Contact.
 */
function salesforceSandbox(): SalesforceSandbox {
  return createSalesforceSandbox({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    customFields: {
      ...SALESFORCE_DEFAULT_CUSTOM_FIELDS,
      Contact: [
        ...(SALESFORCE_DEFAULT_CUSTOM_FIELDS.Contact ?? []),
        { name: EXTERNAL_KEY_FIELD, label: 'External key', type: 'string', length: 80, externalId: true },
      ],
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
}

export async function startSalesforceSandbox(): Promise<SalesforceSandbox> {
  const sandbox = salesforceSandbox();
  await sandbox.start();
  return sandbox;
}

/** That sandbox with a connector pointed at it (the shared sandbox test bed). */
export function startSalesforceTestBed(
  overrides: Partial<SalesforceConnectorConfig> = {},
): Promise<SandboxTestBed<SalesforceSandbox, SalesforceConnector, TokenSet>> {
  return startSandboxTestBed({
    sandbox: salesforceSandbox(),
    connector: (_baseUrl, sandbox) => connectorFor(sandbox, overrides),
    redirectUri: REDIRECT_URI,
  });
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
  _sandbox: SalesforceSandbox,
  connector: SalesforceConnector,
): Promise<CrmSession & { refreshToken?: string }> {
  return toSession(await signInToSandbox(connector, REDIRECT_URI));
}

function toSession(tokens: TokenSet): CrmSession & { refreshToken?: string } {
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
  const bed = await startSalesforceTestBed();
  const { sandbox, connector: port } = bed;
  let session: CrmSession | undefined;
  return {
    port,
    session: async () => (session ??= toSession(await bed.signIn())),
    contact: {
      object: 'Contact',
      fields: { email: 'Email', firstName: 'FirstName', lastName: 'LastName', customKey: EXTERNAL_KEY_FIELD },
    },
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
    close: () => bed.close(),
  };
}
