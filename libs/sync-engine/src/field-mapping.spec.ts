import {
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
