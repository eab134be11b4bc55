import { randomBytes } from 'node:crypto';
import type { CrmRecord, CrmSession, RateLimitObservation } from '@pm/integration-port';
import type { ContractFixture } from '@pm/integration-port/testing';
import {
  createHubSpotSandbox,
  hubSpotSignatureV3,
  type HubSpotRecord,
  type HubSpotSandbox,
  type HubSpotSandboxOptions,
} from '@pm/sandboxes';
import { startSandboxTestBed } from '@pm/sandboxes/testing';
import type { HubSpotConnectorConfig } from '../config';
import { HubSpotConnector } from '../connector';

export const REDIRECT_URI = 'http://127.0.0.1:9/oauth/hubspot/callback';
/** The custom contact property the contract fixture adds for look-ups by a field other than the e-mail. */
export const EXTERNAL_KEY_PROPERTY = 'external_key';

/** A HubSpot sandbox on a free port and a connector pointed at it, as the product would configure one. */
export interface HubSpotTestBed {
  sandbox: HubSpotSandbox;
  baseUrl: string;
  connector: HubSpotConnector;
  config: HubSpotConnectorConfig;
  /** Rate-limit observations the connector reported through sessions made by `session()`. */
  observations: RateLimitObservation[];
  /** A session from the real OAuth dance (consent page, code exchange), made once and reused. */
  session(): Promise<CrmSession>;
  /** A fresh session from a new OAuth dance. */
  connect(): Promise<CrmSession>;
  close(): Promise<void>;
}

export function hubSpotConnectorConfig(baseUrl: string, sandbox: HubSpotSandbox): HubSpotConnectorConfig {
  return {
    clientId: sandbox.oauth.clientId,
    clientSecret: sandbox.oauth.clientSecret,
    apiBaseUrl: baseUrl,
    authorizeUrl: `${baseUrl}/oauth/authorize`,
  };
}

export async function startHubSpotTestBed(
  options: { sandbox?: HubSpotSandboxOptions; connector?: Partial<HubSpotConnectorConfig> } = {},
): Promise<HubSpotTestBed> {
  let config!: HubSpotConnectorConfig;
  const bed = await startSandboxTestBed({
    sandbox: createHubSpotSandbox({ seed: 7, ...options.sandbox }),
    connector: (baseUrl, sandbox) => {
      config = { ...hubSpotConnectorConfig(baseUrl, sandbox), ...options.connector };
      return new HubSpotConnector(config);
    },
    redirectUri: REDIRECT_URI,
  });
  const { sandbox, baseUrl, connector } = bed;
  const observations: RateLimitObservation[] = [];
  const connect = async (): Promise<CrmSession> => {
    const tokens = await bed.signIn();
    return {
      connectionId: `connection-${randomBytes(8).toString('hex')}`,
      accessToken: tokens.accessToken,
      accountId: tokens.account.id,
      onRateLimit: (observation) => observations.push(observation),
    };
  };
  let session: Promise<CrmSession> | undefined;
  return {
    sandbox,
    baseUrl,
    connector,
    config,
    observations,
    session: () => (session ??= connect()),
    connect,
    close: () => bed.close(),
  };
}

/** A sandbox record as the port describes it, for staging answers. */
export function asCrmRecord(record: HubSpotRecord): CrmRecord {
  return {
    id: record.id,
    object: record.objectType,
    modifiedAt: record.updatedAt,
    createdAt: record.createdAt,
    fields: { ...record.properties },
  };
}

/** The contract kit's fixture: staging goes "into the CRM" through the sandbox, stamped with the kit's instants. */
export async function hubSpotContractFixture(): Promise<ContractFixture> {
  const bed = await startHubSpotTestBed();
  const { sandbox } = bed;
  // An admin's own contact property holding a key from another system (not unique: two contacts may share one).
  sandbox.portal.properties.create(
    'contacts',
    {
      name: EXTERNAL_KEY_PROPERTY,
      label: 'External key',
      type: 'string',
      fieldType: 'text',
      groupName: 'contactinformation',
    },
    new Date(),
  );
  const at = (options?: { at?: string }) => (options?.at === undefined ? {} : { at: new Date(options.at) });
  return {
    port: bed.connector,
    session: () => bed.session(),
    // Look-ups are batch reads (by id or e-mail) and searches.
    requests: {
      reset: () => bed.sandbox.counters.reset(),
      lookups: () => bed.sandbox.counters.countWhere((key) => /\/batch\/read$|\/search$/.test(key)),
    },
    contact: {
      object: 'contacts',
      fields: {
        email: 'email',
        firstName: 'firstname',
        lastName: 'lastname',
        customKey: EXTERNAL_KEY_PROPERTY,
      },
    },
    oauth: { redirectUri: REDIRECT_URI },
    staging: {
      createContacts: async (contacts, options) =>
        contacts.map((contact) =>
          asCrmRecord(
            sandbox.createInCrm(
              'contacts',
              { email: contact.email, firstname: contact.firstName, lastname: contact.lastName },
              at(options),
            ),
          ),
        ),
      editContact: async (id, fields, options) =>
        asCrmRecord(sandbox.editInCrm('contacts', id, fields as Record<string, string>, at(options))),
      deleteContact: async (id, options) => {
        // deleteInCrm stamps the sandbox clock's now; the portal takes the kit's instant.
        sandbox.portal.archive('contacts', id, 'CRM_UI', at(options).at);
      },
      readContact: async (id) => {
        const record = sandbox.record('contacts', id);
        return record && asCrmRecord(record);
      },
      invalidContact: (valid) => ({
        fields: { ...valid, email: 'not-an-email' },
        message: 'Email address not-an-email is invalid',
        field: 'email',
      }),
    },
    webhooks: {
      secrets: { secret: sandbox.oauth.clientSecret },
      buildRequest: (change, secrets) => {
        const url = 'https://crm.example.test/webhooks/hubspot';
        const timestamp = String(Date.now());
        const kind = {
          created: 'creation',
          updated: 'propertyChange',
          deleted: 'deletion',
          merged: 'merge',
          other: 'associationChange',
        }[change.action];
        const body = JSON.stringify([
          {
            eventId: 1,
            subscriptionId: 11,
            portalId: sandbox.portalId,
            appId: sandbox.appId,
            occurredAt: Date.now(),
            subscriptionType: `contact.${kind}`,
            attemptNumber: 0,
            objectId: Number(change.recordId),
            changeSource: 'CRM_UI',
            ...(change.action === 'updated' ? { propertyName: 'firstname', propertyValue: 'Changed' } : {}),
          },
        ]);
        return {
          method: 'POST',
          url,
          headers: {
            'content-type': 'application/json',
            'x-hubspot-request-timestamp': timestamp,
            'x-hubspot-signature-v3': hubSpotSignatureV3(secrets.secret, 'POST', url, body, timestamp),
          },
          rawBody: Buffer.from(body),
          receivedAt: new Date(),
        };
      },
    },
    close: () => bed.close(),
  };
}
