/** The CRM sandboxes activity delivery is tested against (a sandbox is never a runtime dependency of the plugin). */
import { Client as HubSpotClient } from '@hubspot/api-client';
import type { CrmSession, IntegrationPort } from '@pm/integration-port';
import { createPipedriveSandbox, type SandboxServer } from '@pm/sandboxes';
import { PipedriveConnector } from '@pm/connectors/pipedrive';
import { startHubSpotTestBed } from '@pm/connectors/hubspot/testing';
import { connectSession, REDIRECT_URI as PIPEDRIVE_REDIRECT_URI } from '@pm/connectors/pipedrive/testing';
import {
  connect as connectSalesforce,
  connectorFor as salesforceConnector,
  startSalesforceSandbox,
} from '@pm/connectors/salesforce/testing';

/** A CRM record an activity became, read straight from the sandbox. */
export interface SandboxActivity {
  /** The contact (Contact/Lead, HubSpot contact, Pipedrive person) it is on. */
  contactId: string | undefined;
  subject: string;
  text: string;
}

/** One CRM's sandbox with its real connector (official SDK over HTTP) and what a test reads back from it. */
export interface CrmBed {
  name: string;
  port: IntegrationPort;
  /** The contact object contact sync links (and activities attach to). */
  contactObject: string;
  sandbox: SandboxServer;
  /** A session from a new OAuth dance (consent page, code exchange). */
  connect(): Promise<CrmSession>;
  /** Creates a contact in the CRM; returns its id. */
  createContact(email: string, firstName: string, lastName: string): string;
  activity(id: string): SandboxActivity | undefined;
  /** Every activity record in the CRM. */
  activityIds(): string[];
  /** A contact's fields as the CRM stores them (for the opt-out and bounce fields). */
  contactFields(id: string): Record<string, unknown>;
  /** The ids of the CRM's contacts with this e-mail. */
  contactsWith(email: string): string[];
  /**
   * What a CRM admin does once so the declared e-mail status fields can be written (HubSpot: create the custom
   * contact properties through the properties API, with the official SDK); nothing where they are standard.
   */
  prepareEmailStatusFields(session: CrmSession): Promise<void>;
  /** The Collections / batch / per-record write route the connector creates activities with, as counted. */
  createRoute: string;
  /** Requests that create activities, for a fault injected on them. */
  createMatch: { method: string; path: RegExp };
  close(): Promise<void>;
}

export async function salesforceBed(): Promise<CrmBed> {
  const sandbox = await startSalesforceSandbox();
  const port = salesforceConnector(sandbox);
  return {
    name: 'Salesforce',
    port,
    contactObject: 'Contact',
    sandbox,
    connect: () => connectSalesforce(sandbox, port),
    createContact: (email, firstName, lastName) =>
      sandbox.stageRecords('Contact', [{ Email: email, FirstName: firstName, LastName: lastName }])[0].id,
    activity: (id) => {
      const fields = sandbox.org.findById(id)?.record.fields;
      return (
        fields && {
          contactId: fields.WhoId as string | undefined,
          subject: String(fields.Subject ?? ''),
          text: String(fields.Description ?? ''),
        }
      );
    },
    activityIds: () => sandbox.org.records('Task').map((record) => record.id),
    contactFields: (id) => ({ ...sandbox.org.findById(id)?.record.fields }),
    contactsWith: (email) =>
      sandbox.org
        .records('Contact')
        .filter((record) => String(record.fields.Email ?? '').toLowerCase() === email)
        .map((record) => record.id),
    prepareEmailStatusFields: async () => undefined,
    createRoute: 'POST /services/data/:version/composite/sobjects',
    createMatch: { method: 'POST', path: /\/composite\/sobjects$/ },
    close: () => sandbox.stop(),
  };
}

export async function hubSpotBed(): Promise<CrmBed> {
  const bed = await startHubSpotTestBed();
  const { sandbox } = bed;
  return {
    name: 'HubSpot',
    port: bed.connector,
    contactObject: 'contacts',
    sandbox,
    connect: () => bed.connect(),
    createContact: (email, firstname, lastname) =>
      sandbox.createInCrm('contacts', { email, firstname, lastname }).id,
    activity: (id) => {
      const record = sandbox.record('emails', id);
      return (
        record && {
          contactId: sandbox.portal.associations.list('emails', id, 'contacts')[0]?.toId,
          subject: record.properties.hs_email_subject ?? '',
          text: record.properties.hs_email_text ?? '',
        }
      );
    },
    activityIds: () => sandbox.records('emails').map((record) => record.id),
    contactFields: (id) => ({ ...sandbox.record('contacts', id)?.properties }),
    contactsWith: (email) =>
      sandbox
        .records('contacts')
        .filter((record) => record.properties.email === email)
        .map((record) => record.id),
    prepareEmailStatusFields: async (session) => {
      const client = new HubSpotClient({ accessToken: session.accessToken, basePath: bed.baseUrl });
      const declared = bed.connector.capabilities().emailStatusFields?.contacts ?? {};
      const names = new Set([
        ...Object.keys(declared.bounced ?? {}),
        ...Object.keys(declared.unsubscribed ?? {}),
      ]);
      for (const name of names) {
        if (sandbox.portal.properties.has('contacts', name)) continue;
        const isTime = name.endsWith('_at');
        const isFlag = Object.hasOwn(declared.unsubscribed ?? {}, name);
        await client.crm.properties.coreApi.create('contacts', {
          name,
          label: name,
          groupName: 'contactinformation',
          type: isTime ? 'datetime' : isFlag ? 'bool' : 'string',
          fieldType: isTime ? 'date' : isFlag ? 'booleancheckbox' : 'text',
          ...(isFlag
            ? {
                options: [
                  { label: 'Yes', value: 'true', displayOrder: 0, hidden: false },
                  { label: 'No', value: 'false', displayOrder: 1, hidden: false },
                ],
              }
            : {}),
        } as never);
      }
    },
    createRoute: 'POST /crm/v3/objects/emails/batch/create',
    createMatch: { method: 'POST', path: /\/objects\/emails\/batch\/create$/ },
    close: () => bed.close(),
  };
}

export async function pipedriveBed(): Promise<CrmBed> {
  const sandbox = createPipedriveSandbox({ redirectUris: [PIPEDRIVE_REDIRECT_URI], seed: 5 });
  const base = await sandbox.start();
  const port = new PipedriveConnector({
    clientId: sandbox.oauth.clientId,
    clientSecret: sandbox.oauth.clientSecret,
    oauthBaseUrl: base,
    apiBaseUrl: base,
    requestTimeoutMs: 10_000,
  });
  return {
    name: 'Pipedrive',
    port,
    contactObject: 'persons',
    sandbox,
    connect: () => connectSession(port),
    createContact: (email, first, last) =>
      String(
        sandbox.createInCrm('persons', {
          name: `${first} ${last}`,
          emails: [{ value: email, primary: true }],
        }).id,
      ),
    activity: (id) => {
      const record = sandbox.activities.get(id);
      return (
        record && {
          contactId: record.person_id === null ? undefined : String(record.person_id),
          subject: record.subject,
          text: record.note ?? '',
        }
      );
    },
    activityIds: () => sandbox.activities.all().map((record) => String(record.id)),
    contactFields: (id) => ({ ...sandbox.persons.get(id) }),
    contactsWith: (email) =>
      sandbox.persons
        .all()
        .filter((record) => record.emails.some((entry) => entry.value.toLowerCase() === email))
        .map((record) => String(record.id)),
    prepareEmailStatusFields: async () => undefined,
    createRoute: 'POST /api/v2/activities',
    createMatch: { method: 'POST', path: /^\/api\/v2\/activities$/ },
    close: () => sandbox.stop(),
  };
}
