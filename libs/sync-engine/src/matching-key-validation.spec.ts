import type { FieldDescriptor, FieldMappingEntry, MatchingKey, ObjectMapping } from '@pm/integration-port';
import { validateMapping, type MappingValidationContext } from './mapping-validation';

const field = (name: string, type: FieldDescriptor['type']): FieldDescriptor => ({
  name,
  label: name,
  type,
  crmType: type,
  required: false,
  readOnly: false,
  custom: name.endsWith('__c'),
});

const context: MappingValidationContext = {
  syncableObjects: ['Contact'],
  crmFields: [
    field('Email', 'email'),
    field('Secondary_Email__c', 'email'),
    field('External_Id__c', 'string'),
    field('Member_No__c', 'number'),
    field('Active__c', 'boolean'),
    field('Tier__c', 'picklist'),
    field('AccountId', 'reference'),
    field('Birthdate', 'date'),
    field('FirstName', 'string'),
  ],
  crmName: 'Salesforce',
};

const email: FieldMappingEntry = { local: 'email', crm: 'Email', direction: 'both', codec: 'email' };
const externalId: FieldMappingEntry = {
  local: 'customFields.externalId',
  crm: 'External_Id__c',
  direction: 'both',
  codec: 'text',
};

const problemsWith = (matchKey: MatchingKey, fields: FieldMappingEntry[] = [email, externalId]) =>
  validateMapping({ object: 'Contact', emailField: 'Email', matchKey, fields } as ObjectMapping, context);

describe('matching key validation', () => {
  it('accepts a custom external id, a number field and a second e-mail field as keys', () => {
    expect(problemsWith({ local: 'customFields.externalId', crm: 'External_Id__c' })).toEqual([]);
    expect(problemsWith({ local: 'customFields.memberNo', crm: 'Member_No__c' })).toEqual([]);
    expect(problemsWith({ local: 'email', crm: 'Secondary_Email__c' })).toEqual([]);
  });

  it('refuses an unknown CRM field, naming matchField', () => {
    expect(problemsWith({ local: 'customFields.externalId', crm: 'Nope__c' })).toEqual([
      { name: 'matchField', reason: '"Nope__c" is not a field of Contact' },
    ]);
  });

  it.each(['Active__c', 'Tier__c', 'AccountId', 'Birthdate'])(
    'refuses %s, a field that cannot hold a key',
    (crm) => {
      const type = context.crmFields.find((candidate) => candidate.name === crm)?.type;
      expect(problemsWith({ local: 'customFields.externalId', crm })).toEqual([
        {
          name: 'matchField',
          reason: `"${crm}" is a ${type} field; a matching key must be a text, e-mail, phone, number or id field`,
        },
      ]);
    },
  );

  it('matches an e-mail only against a text or e-mail field', () => {
    expect(problemsWith({ local: 'email', crm: 'Member_No__c' })).toEqual([
      { name: 'matchField', reason: '"Member_No__c" is a number field; records are matched on an e-mail' },
    ]);
  });

  it.each(['firstName', 'customFields.', 'customFields.bad name', 'phone'])(
    'refuses %s as the PenguinMails side, naming matchLocalField',
    (local) => {
      expect(problemsWith({ local, crm: 'External_Id__c' } as MatchingKey)).toEqual([
        {
          name: 'matchLocalField',
          reason: `"${local}" cannot be matched on: use email or a contact custom field (customFields.<name>)`,
        },
      ]);
    },
  );

  it('refuses an entry writing either side of the key from another field', () => {
    const key: MatchingKey = { local: 'customFields.externalId', crm: 'External_Id__c' };
    const fromFirstName: FieldMappingEntry = {
      local: 'firstName',
      crm: 'External_Id__c',
      direction: 'to_crm',
      codec: 'text',
    };
    const fromOther: FieldMappingEntry = {
      local: 'customFields.externalId',
      crm: 'FirstName',
      direction: 'from_crm',
      codec: 'text',
    };
    expect(problemsWith(key, [email, fromFirstName, fromOther])).toEqual([
      {
        name: 'fields[1].crm',
        reason:
          '"External_Id__c" is the matching key, matched against customFields.externalId; writing it from firstName would change the key (use from_crm, or map it from customFields.externalId)',
      },
      {
        name: 'fields[2].local',
        reason:
          'customFields.externalId is the matching key, matched against "External_Id__c"; writing it from "FirstName" would change the key (use to_crm, or map it from "External_Id__c")',
      },
    ]);
    // Read only into PenguinMails, or written from the key's own side: no conflict.
    expect(problemsWith(key, [email, { ...fromFirstName, direction: 'from_crm' }])).toEqual([]);
  });
});
