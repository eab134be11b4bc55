import type { IntegrationPort, TokenSet } from '@pm/integration-port';
import { REDIRECT_URI as HUBSPOT_REDIRECT_URI, startHubSpotTestBed } from '@pm/connectors/hubspot/testing';
import { pipedriveStaging, startPipedriveTestBed } from '@pm/connectors/pipedrive/testing';
import { startSalesforceTestBed } from '@pm/connectors/salesforce/testing';
import type { FaultInjector, OAuthServer } from '@pm/sandboxes';
import { signInToSandbox } from '@pm/sandboxes/testing';

/** A person on either side, by the product's own field names. */
export interface Person {
  email: string;
  firstName: string;
  lastName: string;
}

/** What the fault matrix needs of one CRM's sandbox: its injector and OAuth server, and "a user edits in the CRM". */
export interface CrmUnderFault {
  name: string;
  provider: string;
  /** The contact object the connection syncs. */
  object: string;
  connector: IntegrationPort;
  faults: FaultInjector;
  oauth: OAuthServer;
  /** Forgets every record and fault (tokens stay), as a fresh CRM account. */
  reset(): void;
  signIn(): Promise<TokenSet>;
  /** Creates people "in the CRM" (the sandbox's staging, no API call); returns their ids in order. */
  create(people: Person[]): Promise<string[]>;
  /** Every activity record in the CRM: the contact it is on and its subject. */
  activities(): { contactId?: string; subject: string }[];
  /** A user changes a person's last name in the CRM. */
  editLastName(id: string, lastName: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Each CRM's sandbox with its real connector (official SDK over HTTP) and a short client timeout, so "slower than
 * the client timeout" costs a second, not a minute.
 */
export async function startCrmsUnderFault(clientTimeoutMs: number): Promise<CrmUnderFault[]> {
  const salesforce = await startSalesforceTestBed({ timeoutMs: clientTimeoutMs });
  const hubspot = await startHubSpotTestBed({ connector: { requestTimeoutMs: clientTimeoutMs } });
  const pipedrive = await startPipedriveTestBed({ connector: { requestTimeoutMs: clientTimeoutMs } });
  const pipedriveStage = pipedriveStaging(pipedrive.sandbox);
  return [
    {
      name: 'Salesforce',
      provider: salesforce.connector.provider,
      object: 'Contact',
      connector: salesforce.connector,
      faults: salesforce.sandbox.faults,
      oauth: salesforce.sandbox.oauth,
      reset: () => salesforce.sandbox.reset(),
      signIn: () => salesforce.signIn(),
      create: async (people) =>
        salesforce.sandbox
          .stageRecords(
            'Contact',
            people.map((p) => ({ Email: p.email, FirstName: p.firstName, LastName: p.lastName })),
          )
          .map((record) => record.id),
      editLastName: async (id, lastName) => {
        salesforce.sandbox.editInCrm('Contact', id, { LastName: lastName });
      },
      activities: () =>
        salesforce.sandbox.records('Task').map((task) => ({
          contactId: task.fields.WhoId as string | undefined,
          subject: String(task.fields.Subject ?? ''),
        })),
      close: () => salesforce.close(),
    },
    {
      name: 'HubSpot',
      provider: hubspot.connector.provider,
      object: 'contacts',
      connector: hubspot.connector,
      faults: hubspot.sandbox.faults,
      oauth: hubspot.sandbox.oauth,
      reset: () => hubspot.sandbox.reset(),
      // The vault needs the token set itself (the HubSpot bed hands out sessions).
      signIn: () => signInToSandbox(hubspot.connector, HUBSPOT_REDIRECT_URI),
      create: async (people) =>
        people.map(
          (p) =>
            hubspot.sandbox.createInCrm('contacts', {
              email: p.email,
              firstname: p.firstName,
              lastname: p.lastName,
            }).id,
        ),
      editLastName: async (id, lastName) => {
        hubspot.sandbox.editInCrm('contacts', id, { lastname: lastName });
      },
      activities: () =>
        hubspot.sandbox.records('emails').map((email) => ({
          contactId: hubspot.sandbox.portal.associations.list('emails', email.id, 'contacts')[0]?.toId,
          subject: email.properties.hs_email_subject ?? '',
        })),
      close: () => hubspot.close(),
    },
    {
      name: 'Pipedrive',
      provider: pipedrive.connector.provider,
      object: 'persons',
      connector: pipedrive.connector,
      faults: pipedrive.sandbox.faults,
      oauth: pipedrive.sandbox.oauth,
      reset: () => pipedrive.sandbox.reset(),
      signIn: () => pipedrive.signIn(),
      create: async (people) => (await pipedriveStage.createContacts(people)).map((record) => record.id),
      editLastName: async (id, lastName) => {
        await pipedriveStage.editContact(id, { last_name: lastName });
      },
      activities: () =>
        pipedrive.sandbox.activities.all().map((activity) => ({
          contactId: activity.person_id === null ? undefined : String(activity.person_id),
          subject: activity.subject,
        })),
      close: () => pipedrive.close(),
    },
  ];
}
