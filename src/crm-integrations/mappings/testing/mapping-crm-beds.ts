import { Client } from '@hubspot/api-client';
import {
  PropertyCreateFieldTypeEnum,
  PropertyCreateTypeEnum,
} from '@hubspot/api-client/lib/codegen/crm/properties';
import { Connection } from 'jsforce';
import { v1, v2 } from 'pipedrive';
import type { CrmSession, IntegrationPort } from '@pm/integration-port';
import { SALESFORCE_DEFAULT_API_VERSION } from '@pm/connectors/salesforce';
import { startHubSpotTestBed } from '@pm/connectors/hubspot/testing';
import { startPipedriveTestBed } from '@pm/connectors/pipedrive/testing';
import { connect as connectSalesforce, startSalesforceTestBed } from '@pm/connectors/salesforce/testing';

/**
 * Each CRM's sandbox with its real connector (official SDK over HTTP), set up for field-mapping tests: the custom
 * fields a tenant would create (a text field, a second text field a formula fills, a picklist, a number), a
 * read-only field, and how to add a field while the CRM runs (discovery refresh) or make one required.
 */
export interface MappingBed {
  name: string;
  provider: string;
  port: IntegrationPort;
  object: string;
  session: CrmSession;
  /** CRM field names. */
  fields: {
    colour: string;
    summary: string;
    stage: string;
    score: string;
    readOnly: string;
    title: string;
  };
  /** The picklist's CRM values, for PenguinMails 'prospect' and 'customer'. */
  stageValues: [string, string];
  /** A JSONata expression reading the record’s e-mail, as the connector gives it. */
  emailExpression: string;
  /** A required CRM field left out of a mapping, and the entries that satisfy it (for the valid mapping). */
  makeRequired(): { field: string; satisfiedBy: { local: string; crm: string }[] };
  /** An admin adding a custom field while the connection exists; returns its CRM name. */
  addFieldLater(): string;
  /** A custom text field for a key from another system (a member number), added the CRM's own way; its name. */
  addKeyField(): Promise<string>;
  /** A contact made with the CRM's official SDK (not the connector), holding `key` in `keyField`; its id. */
  createWithSdk(contact: { email: string; lastName: string; keyField: string; key: string }): Promise<string>;
  close(): Promise<void>;
}

export async function salesforceMappingBed(): Promise<MappingBed> {
  const bed = await startSalesforceTestBed();
  const { schema } = bed.sandbox;
  schema.addCustomField('Contact', { name: 'Colour__c', label: 'Colour', type: 'string', length: 80 });
  schema.addCustomField('Contact', { name: 'Summary__c', label: 'Summary', type: 'string', length: 255 });
  schema.addCustomField('Contact', {
    name: 'Stage__c',
    label: 'Stage',
    type: 'picklist',
    picklistValues: ['Open - Not Contacted', 'Closed - Converted'],
  });
  schema.addCustomField('Contact', { name: 'Score__c', label: 'Score', type: 'double' });
  const session = await connectSalesforce(bed.sandbox, bed.connector);
  const sessionOf = async () => session;
  return {
    name: 'Salesforce',
    provider: bed.connector.provider,
    port: bed.connector,
    object: 'Contact',
    session,
    fields: {
      colour: 'Colour__c',
      summary: 'Summary__c',
      stage: 'Stage__c',
      score: 'Score__c',
      readOnly: 'CreatedDate',
      title: 'Title',
    },
    stageValues: ['Open - Not Contacted', 'Closed - Converted'],
    emailExpression: 'Email',
    // LastName is required on create; the default mapping writes it from lastName.
    makeRequired: () => ({ field: 'LastName', satisfiedBy: [{ local: 'lastName', crm: 'LastName' }] }),
    addFieldLater: () => {
      schema.addCustomField('Contact', { name: 'Later__c', label: 'Later', type: 'string' });
      return 'Later__c';
    },
    addKeyField: async () => {
      // A field is set up in Salesforce's Setup (the Metadata API), which the sandbox has no route for.
      schema.addCustomField('Contact', {
        name: 'Member_No__c',
        label: 'Member no',
        type: 'string',
        length: 40,
      });
      return 'Member_No__c';
    },
    createWithSdk: async (contact) => {
      const session = await sessionOf();
      const jsforce = new Connection({
        instanceUrl: session.instanceUrl,
        accessToken: session.accessToken,
        version: SALESFORCE_DEFAULT_API_VERSION,
      });
      const created = await jsforce
        .sobject('Contact')
        .create({ Email: contact.email, LastName: contact.lastName, [contact.keyField]: contact.key });
      if (!created.success) throw new Error(JSON.stringify(created.errors));
      return created.id;
    },
    close: () => bed.close(),
  };
}

export async function hubSpotMappingBed(): Promise<MappingBed> {
  const bed = await startHubSpotTestBed();
  const { properties } = bed.sandbox.portal;
  const property = (
    name: string,
    type: 'string' | 'number' | 'enumeration',
    fieldType: string,
    options?: string[],
  ) =>
    properties.create(
      'contacts',
      {
        name,
        label: name,
        type,
        fieldType: fieldType as never,
        groupName: 'contactinformation',
        options: options?.map((value) => ({ label: value, value })),
      },
      new Date(),
    );
  property('favourite_colour', 'string', 'text');
  property('pm_summary', 'string', 'text');
  property('pm_stage', 'enumeration', 'select', ['open', 'won']);
  property('pm_score', 'number', 'number');
  const session = await bed.session();
  const sdk = new Client({
    accessToken: session.accessToken,
    basePath: bed.baseUrl,
    numberOfApiCallRetries: 0,
  });
  return {
    name: 'HubSpot',
    provider: bed.connector.provider,
    port: bed.connector,
    object: 'contacts',
    session,
    fields: {
      colour: 'favourite_colour',
      summary: 'pm_summary',
      stage: 'pm_stage',
      score: 'pm_score',
      readOnly: 'lastmodifieddate',
      title: 'jobtitle',
    },
    stageValues: ['open', 'won'],
    emailExpression: 'email',
    // HubSpot has no required contact property (requiredness lives in its forms): e-mail stands in, the one the
    // connector's default mapping must keep.
    makeRequired: () => ({ field: '', satisfiedBy: [] }),
    addFieldLater: () => {
      property('pm_later', 'string', 'text');
      return 'pm_later';
    },
    addKeyField: async () => {
      await sdk.crm.properties.coreApi.create('contacts', {
        name: 'member_number',
        label: 'Member number',
        type: PropertyCreateTypeEnum.String,
        fieldType: PropertyCreateFieldTypeEnum.Text,
        groupName: 'contactinformation',
      });
      return 'member_number';
    },
    createWithSdk: async (contact) => {
      const created = await sdk.crm.contacts.basicApi.create({
        properties: { email: contact.email, lastname: contact.lastName, [contact.keyField]: contact.key },
        associations: [],
      });
      return created.id;
    },
    close: () => bed.close(),
  };
}

export async function pipedriveMappingBed(): Promise<MappingBed> {
  const bed = await startPipedriveTestBed();
  const { sandbox } = bed;
  const colour = sandbox.addPersonField('Favourite colour', 'varchar').key;
  const summary = sandbox.addPersonField('PM summary', 'varchar').key;
  const stage = sandbox.addPersonField('PM stage', 'enum', ['Open', 'Won']);
  const score = sandbox.addPersonField('PM score', 'double').key;
  const stageIds = (stage.options ?? []).map((option) => String(option.id));
  let region: string | undefined;
  const session = await bed.session();
  const accessToken = () => session.accessToken;
  const persons = new v2.PersonsApi(new v2.Configuration({ accessToken, basePath: `${bed.baseUrl}/api/v2` }));
  const personFields = new v1.PersonFieldsApi(
    new v1.Configuration({ accessToken, basePath: `${bed.baseUrl}/v1` }),
  );
  return {
    name: 'Pipedrive',
    provider: bed.connector.provider,
    port: bed.connector,
    object: 'persons',
    session,
    fields: { colour, summary, stage: stage.key, score, readOnly: 'add_time', title: 'job_title' },
    stageValues: [stageIds[0], stageIds[1]],
    emailExpression: 'email',
    makeRequired: () => {
      region ??= sandbox.addPersonField('Region', 'varchar', [], { mandatory: true }).key;
      return { field: region, satisfiedBy: [{ local: 'customFields.region', crm: region }] };
    },
    addFieldLater: () => sandbox.addPersonField('PM later', 'varchar').key,
    addKeyField: async () => {
      const field = await personFields.addPersonField({
        CreateFieldRequest: { name: 'Member number', field_type: 'varchar' },
      });
      return field.data!.key!;
    },
    createWithSdk: async (contact) => {
      const added = await persons.addPerson({
        AddPersonRequest: {
          name: contact.lastName,
          emails: [{ value: contact.email, primary: true }],
          custom_fields: { [contact.keyField]: contact.key },
        },
      });
      return String(added.data!.id);
    },
    close: () => bed.close(),
  };
}
