import {
  associatedIdsToRead,
  associatedValuesOf,
  crmFieldsToRead,
  crmRecordEmail,
  decodeCrmRecord,
  DEFAULT_FIELD_MAPPINGS,
  DefaultFieldMappingSource,
  encodeForCrm,
  type ObjectMapping,
} from './field-mapping';

describe('default field mapping', () => {
  it('maps each CRM contact object the settings can select, with its e-mail field', () => {
    const source = new DefaultFieldMappingSource();
    expect(source.mappingFor('salesforce', 'Contact')?.emailField).toBe('Email');
    expect(source.mappingFor('salesforce', 'Lead')?.fields.map((f) => f.crm)).toContain('Company');
    expect(source.mappingFor('hubspot', 'contacts')?.fields.map((f) => `${f.local}:${f.crm}`)).toEqual([
      'email:email',
      'firstName:firstname',
      'lastName:lastname',
      'company:company',
      'title:jobtitle',
      'phone:phone',
      'lifecycleStage:lifecyclestage',
    ]);
    expect(source.mappingFor('pipedrive', 'persons')?.emailField).toBe('email');
    expect(source.mappingFor('hubspot', 'companies')).toBeUndefined();
  });

  it('reads a HubSpot contact’s company from its first associated company, else from its own company property', () => {
    const mapping = DEFAULT_FIELD_MAPPINGS.hubspot.contacts;
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
    const mapping = DEFAULT_FIELD_MAPPINGS.pipedrive.persons;
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
    const mapping = DEFAULT_FIELD_MAPPINGS.salesforce.Contact;
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

  it('reads the primary of a list and writes a one-item primary list, for a CRM that keeps lists', () => {
    const mapping: ObjectMapping = {
      provider: 'list-crm',
      object: 'people',
      emailField: 'emails',
      fields: [
        { local: 'email', crm: 'emails', direction: 'both', codec: 'primary_of_list' },
        { local: 'phone', crm: 'phones', direction: 'both', codec: 'primary_of_list' },
      ],
    };
    const fields = {
      emails: [
        { value: 'other@example.com', primary: false },
        { value: 'Main@Example.com', primary: true },
      ],
    };
    expect(crmRecordEmail(mapping, fields)).toBe('main@example.com');
    expect(decodeCrmRecord(mapping, fields).email).toBe('main@example.com');
    expect(encodeForCrm(mapping, { phone: '+1 555' })).toEqual({
      phones: [{ value: '+1 555', primary: true, label: 'work' }],
    });
  });

  it('maps Pipedrive persons to the flat fields its connector returns', () => {
    const mapping = DEFAULT_FIELD_MAPPINGS.pipedrive.persons;
    expect(
      decodeCrmRecord(mapping, { email: 'P@Example.com', first_name: 'Pat', job_title: 'CTO' }),
    ).toMatchObject({
      email: 'p@example.com',
      firstName: 'Pat',
      title: 'CTO',
    });
  });

  it('treats empty text as no value', () => {
    const values = decodeCrmRecord(DEFAULT_FIELD_MAPPINGS.hubspot.contacts, {
      email: 'a@b.co',
      firstname: '   ',
    });
    expect(values.firstName).toBeNull();
  });
});
