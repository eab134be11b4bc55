import { HubSpotConnector } from '@pm/connectors/hubspot';
import { PipedriveConnector } from '@pm/connectors/pipedrive';
import { SalesforceConnector } from '@pm/connectors/salesforce';
import type { IntegrationPort } from '@pm/integration-port';
import {
  associatedIdsToRead,
  associatedValuesOf,
  crmFieldsToRead,
  decodeCrmRecord,
  DefaultFieldMappingSource,
  encodeForCrm,
  type ObjectMapping,
} from '@pm/sync-engine';

// Each connector declares its default mapping beside its capabilities; the engine reads it through the port.
const credentials = { clientId: 'client-id', clientSecret: 'client-secret' };
const connectors: IntegrationPort[] = [
  new SalesforceConnector(credentials),
  new HubSpotConnector(credentials),
  new PipedriveConnector(credentials),
];

function mappingOf(provider: string, object: string): ObjectMapping {
  const port = connectors.find((connector) => connector.provider === provider) as IntegrationPort;
  const mapping = new DefaultFieldMappingSource(port).mappingFor(null, object);
  if (!mapping) throw new Error(`${provider} declares no mapping for ${object}`);
  return mapping;
}

describe('the connectors’ default field mappings, as the engine applies them', () => {
  it.each(connectors.map((connector) => [connector.provider, connector] as const))(
    '%s maps each contact object it offers, matching by its e-mail field',
    (_provider, connector) => {
      const capabilities = connector.capabilities();
      const contactObjects = capabilities.objects.filter((object) => object.role === 'contact');
      expect(Object.keys(capabilities.defaultMappings).sort()).toEqual(
        contactObjects.map((object) => object.name).sort(),
      );
      for (const object of contactObjects) {
        const mapping = capabilities.defaultMappings[object.name];
        expect(mapping.object).toBe(object.name);
        expect(mapping.emailField).toBe(object.emailField);
        expect(mapping.fields.find((entry) => entry.local === 'email')?.crm).toBe(mapping.emailField);
      }
    },
  );

  it('maps each CRM contact object the settings can select, with its e-mail field', () => {
    expect(mappingOf('salesforce', 'Contact').emailField).toBe('Email');
    expect(mappingOf('salesforce', 'Lead').fields.map((f) => f.crm)).toContain('Company');
    expect(mappingOf('hubspot', 'contacts').fields.map((f) => `${f.local}:${f.crm}`)).toEqual([
      'email:email',
      'firstName:firstname',
      'lastName:lastname',
      'company:company',
      'title:jobtitle',
      'phone:phone',
      'lifecycleStage:lifecyclestage',
    ]);
    expect(mappingOf('pipedrive', 'persons').emailField).toBe('email');
    expect(new DefaultFieldMappingSource(connectors[1]).mappingFor(null, 'companies')).toBeUndefined();
  });

  it('reads a HubSpot contact’s company from its first associated company, else from its own company property', () => {
    const mapping = mappingOf('hubspot', 'contacts');
    const companies = new Map([
      ['c1', { fields: { name: 'Acme Corp' } }],
      ['c2', { fields: { name: 'Globex' } }],
    ]);
    const associated = new Map([['companies', companies]]);
    const associatedContact = { associations: { companies: ['c1', 'c2'] } };
    const lonelyContact = { associations: { companies: [] } };
    const missingCompany = { associations: { companies: ['gone'] } };

    expect(associatedIdsToRead(mapping, [associatedContact, lonelyContact, missingCompany, {}])).toEqual([
      { object: 'companies', fields: ['name'], ids: ['c1', 'gone'] },
    ]);
    const fields = { email: 'a@b.co', company: 'Typed by hand Inc' };
    const decode = (record: { associations?: Record<string, string[]> }) =>
      decodeCrmRecord(mapping, fields, associatedValuesOf(mapping, record, associated)).company;
    expect(decode(associatedContact)).toBe('Acme Corp');
    expect(decode(lonelyContact)).toBe('Typed by hand Inc');
    expect(decode(missingCompany)).toBe('Typed by hand Inc');
    // Outbound, HubSpot's own company text property is what is written; the company record is not touched.
    expect(encodeForCrm(mapping, { company: 'New Co' })).toEqual({ company: 'New Co' });
  });

  it('reads a Pipedrive person’s company from its organization and never writes it through the person', () => {
    const mapping = mappingOf('pipedrive', 'persons');
    const associated = new Map([['organizations', new Map([['7', { fields: { name: 'Initech' } }]])]]);
    const person = { associations: { organizations: ['7'] } };
    expect(associatedIdsToRead(mapping, [person])).toEqual([
      { object: 'organizations', fields: ['name'], ids: ['7'] },
    ]);
    expect(
      decodeCrmRecord(mapping, { email: 'p@x.co' }, associatedValuesOf(mapping, person, associated)).company,
    ).toBe('Initech');
    expect(decodeCrmRecord(mapping, { email: 'p@x.co' }).company).toBeNull();
    expect(encodeForCrm(mapping, { company: 'Other', title: 'CTO' })).toEqual({ job_title: 'CTO' });
    expect(crmFieldsToRead(mapping)).toEqual(['email', 'first_name', 'last_name', 'phone', 'job_title']);
  });

  it('reads a Salesforce Contact’s company through its Account, and never writes it', () => {
    const mapping = mappingOf('salesforce', 'Contact');
    const values = decodeCrmRecord(mapping, {
      Email: ' John@Example.COM ',
      FirstName: 'John',
      Account: { Name: 'Acme' },
    });
    expect(values).toMatchObject({
      email: 'john@example.com',
      firstName: 'John',
      company: 'Acme',
      phone: null,
    });
    expect(encodeForCrm(mapping, { company: 'Other', title: 'CTO' })).toEqual({ Title: 'CTO' });
    expect(crmFieldsToRead(mapping)).toContain('Account.Name');
  });

  it('maps Pipedrive persons to the flat fields its connector returns', () => {
    expect(
      decodeCrmRecord(mappingOf('pipedrive', 'persons'), {
        email: 'P@Example.com',
        first_name: 'Pat',
        job_title: 'CTO',
      }),
    ).toMatchObject({ email: 'p@example.com', firstName: 'Pat', title: 'CTO' });
  });

  it('treats empty text as no value', () => {
    const values = decodeCrmRecord(mappingOf('hubspot', 'contacts'), { email: 'a@b.co', firstname: '   ' });
    expect(values.firstName).toBeNull();
  });
});
