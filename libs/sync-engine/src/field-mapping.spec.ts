import { InMemoryConnector, InMemoryCrm } from '@pm/integration-port/testing';
import {
  associatedIdsToRead,
  associatedValuesOf,
  crmFieldsToRead,
  crmRecordEmail,
  decodeCrmRecord,
  DefaultFieldMappingSource,
  encodeForCrm,
  type ObjectMapping,
} from './field-mapping';
import { IN_MEMORY_CONTACTS_MAPPING } from './testing';

// Mappings shaped like the CRMs' own (the connectors' real defaults are tested against these rules in
// test/field-mapping/default-mappings.spec.ts); field names here are made up, the engine knows none.
const relatedCompany: ObjectMapping = {
  object: 'people',
  emailField: 'Mail',
  fields: [
    { local: 'email', crm: 'Mail', direction: 'both', codec: 'email' },
    { local: 'firstName', crm: 'Given', direction: 'both', codec: 'text' },
    { local: 'title', crm: 'Role', direction: 'both', codec: 'text' },
    { local: 'phone', crm: 'Tel', direction: 'both', codec: 'text' },
    { local: 'company', crm: 'Employer.Label', direction: 'from_crm', codec: 'text' },
  ],
};
const organizationOnly: ObjectMapping = {
  object: 'people',
  emailField: 'mail',
  fields: [
    { local: 'email', crm: 'mail', direction: 'both', codec: 'email' },
    { local: 'title', crm: 'role', direction: 'both', codec: 'text' },
    {
      local: 'company',
      associated: { object: 'orgs', field: 'label' },
      direction: 'from_crm',
      codec: 'text',
    },
  ],
};

describe('field mapping', () => {
  it('takes each object’s default mapping from the connector’s capabilities, and none for an object without one', () => {
    const source = new DefaultFieldMappingSource(new InMemoryConnector(new InMemoryCrm()));
    expect(source.mappingFor(null, 'contacts')).toEqual(IN_MEMORY_CONTACTS_MAPPING);
    expect(source.mappingFor(null, 'companies')).toBeUndefined();
    expect(source.mappingFor(null, 'toString')).toBeUndefined();
  });

  it('reads a company from the first associated record, else from the contact’s own property', () => {
    const mapping = IN_MEMORY_CONTACTS_MAPPING;
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
    // Outbound, the contact's own company property is what is written; the company record is not touched.
    expect(encodeForCrm(mapping, { company: 'New Co' })).toEqual({ company: 'New Co' });
  });

  it('reads a value only an association holds, and never writes it through the contact', () => {
    const associated = new Map([['orgs', new Map([['7', { fields: { label: 'Initech' } }]])]]);
    const person = { associations: { orgs: ['7'] } };
    expect(associatedIdsToRead(organizationOnly, [person])).toEqual([
      { object: 'orgs', fields: ['label'], ids: ['7'] },
    ]);
    const decode = (associations: Record<string, unknown>) =>
      decodeCrmRecord(organizationOnly, { mail: 'p@x.co' }, associations).company;
    expect(decode(associatedValuesOf(organizationOnly, person, associated))).toBe('Initech');
    expect(decode({})).toBeNull();
    expect(encodeForCrm(organizationOnly, { company: 'Other', title: 'CTO' })).toEqual({ role: 'CTO' });
    expect(crmFieldsToRead(organizationOnly)).toEqual(['mail', 'role']);
  });

  it('reads a related record’s field by its dotted path, and never writes it', () => {
    const values = decodeCrmRecord(relatedCompany, {
      Mail: ' John@Example.COM ',
      Given: 'John',
      Employer: { Label: 'Acme' },
    });
    expect(values).toMatchObject({
      email: 'john@example.com',
      firstName: 'John',
      company: 'Acme',
      phone: null,
    });
    expect(encodeForCrm(relatedCompany, { company: 'Other', title: 'CTO' })).toEqual({ Role: 'CTO' });
    expect(crmFieldsToRead(relatedCompany)).toContain('Employer.Label');
  });

  it('reads the primary of a list and writes a one-item primary list, for a CRM that keeps lists', () => {
    const mapping: ObjectMapping = {
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

  it('treats empty text as no value', () => {
    const values = decodeCrmRecord(IN_MEMORY_CONTACTS_MAPPING, { email: 'a@b.co', firstname: '   ' });
    expect(values.firstName).toBeNull();
  });
});
