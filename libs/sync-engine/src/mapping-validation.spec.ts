import type { FieldDescriptor, FieldMappingEntry, ObjectMapping } from '@pm/integration-port';
import { validateMapping, type MappingValidationContext } from './mapping-validation';

const field = (
  name: string,
  type: FieldDescriptor['type'],
  extra: Partial<FieldDescriptor> = {},
): FieldDescriptor => ({
  name,
  label: name,
  type,
  crmType: type,
  required: false,
  readOnly: false,
  custom: name.endsWith('__c'),
  ...extra,
});

const CRM_FIELDS = [
  field('Email', 'email'),
  field('FirstName', 'string'),
  field('LastName', 'string', { required: true }),
  field('AccountId', 'reference'),
  field('Score__c', 'number'),
  field('Created', 'datetime', { readOnly: true }),
  field('Status__c', 'picklist', {
    options: [
      { value: 'Open', label: 'Open' },
      { value: 'Won', label: 'Won' },
    ],
  }),
  field('Region__c', 'string', { required: true }),
];

const email: FieldMappingEntry = { local: 'email', crm: 'Email', direction: 'both', codec: 'email' };
const lastName: FieldMappingEntry = { local: 'lastName', crm: 'LastName', direction: 'both', codec: 'text' };
const region: FieldMappingEntry = {
  local: 'customFields.region',
  crm: 'Region__c',
  direction: 'both',
  codec: 'text',
};
const DEFAULTS: ObjectMapping = { object: 'Contact', emailField: 'Email', fields: [email, lastName] };

const context: MappingValidationContext = {
  syncableObjects: ['Contact', 'Lead'],
  crmFields: CRM_FIELDS,
  defaults: DEFAULTS,
  crmName: 'Salesforce',
};

const problemsOf = (fields: FieldMappingEntry[], overrides: Partial<ObjectMapping> = {}) =>
  validateMapping(
    { object: 'Contact', emailField: 'Email', fields: [email, lastName, region, ...fields], ...overrides },
    context,
  );

describe('mapping validation', () => {
  it('accepts a sound mapping, custom fields, dotted relation reads and formulas', () => {
    expect(
      problemsOf([
        { local: 'company', crm: 'Account.Name', direction: 'from_crm', codec: 'text' },
        { crm: 'FirstName', direction: 'to_crm', codec: 'text', formula: { toCrm: '$uppercase(firstName)' } },
        {
          local: 'leadStatus',
          crm: 'Status__c',
          direction: 'both',
          codec: 'text',
          valueMap: { toCrm: { open: 'Open', won: 'Won' }, fromCrm: { Open: 'open' } },
        },
      ]),
    ).toEqual([]);
  });

  it('names each problem: unknown fields, read-only targets, types, picklists, duplicates, formulas', () => {
    const problems = problemsOf([
      { local: 'shoeSize' as never, crm: 'FirstName', direction: 'both', codec: 'text' },
      { local: 'title', crm: 'Nope__c', direction: 'both', codec: 'text' },
      { local: 'phone', crm: 'Created', direction: 'to_crm', codec: 'text' },
      { local: 'title', crm: 'Score__c', direction: 'to_crm', codec: 'text' },
      { local: 'leadStatus', crm: 'Status__c', direction: 'to_crm', codec: 'text' },
      { local: 'firstName', crm: 'LastName', direction: 'to_crm', codec: 'text' },
      { crm: 'FirstName', direction: 'both', codec: 'text', formula: { toCrm: 'firstName &' } },
      { local: 'company', direction: 'from_crm', codec: 'text', formula: { fromCrm: 'Unknown__c' } },
    ]);
    expect(problems).toEqual([
      {
        name: 'fields[3].local',
        reason: expect.stringContaining('"shoeSize" is not a PenguinMails contact field'),
      },
      { name: 'fields[4].crm', reason: '"Nope__c" is not a field of this CRM object' },
      { name: 'fields[5].direction', reason: '"Created" is read-only in the CRM; it can only flow from_crm' },
      {
        name: 'fields[6].crm',
        reason: expect.stringContaining('"Score__c" is a number field; the text of title'),
      },
      {
        name: 'fields[7].valueMap',
        reason: expect.stringContaining('"Status__c" is a picklist; give a toCrm value map'),
      },
      { name: 'fields[9].direction', reason: 'a toCrm formula flows to the CRM only: use "to_crm"' },
      { name: 'fields[9].formula.toCrm', reason: expect.stringContaining('not a valid JSONata formula') },
      { name: 'fields[10].formula.fromCrm', reason: 'reads "Unknown__c", which is not a field here' },
      { name: 'fields[8].crm', reason: '"LastName" is already written by fields[1]; one source per target' },
      { name: 'fields[9].crm', reason: '"FirstName" is already written by fields[3]; one source per target' },
    ]);
  });

  it('a value map into a picklist must use its values; two fields writing one local field clash', () => {
    expect(
      problemsOf([
        {
          local: 'leadStatus',
          crm: 'Status__c',
          direction: 'to_crm',
          codec: 'text',
          valueMap: { toCrm: { a: 'Lost' } },
        },
        { local: 'lastName', crm: 'FirstName', direction: 'from_crm', codec: 'text' },
      ]),
    ).toEqual([
      {
        name: 'fields[3].valueMap.toCrm.a',
        reason: '"Lost" is not a value of picklist "Status__c" (Open, Won)',
      },
      {
        name: 'fields[4].local',
        reason: '"lastName" is already written by fields[1]; one source per target',
      },
    ]);
  });

  it('a required field left unmapped, an unknown e-mail field and an object the connection cannot sync', () => {
    expect(
      validateMapping({ object: 'Contact', emailField: 'Email', fields: [email, region] }, context),
    ).toEqual([
      {
        name: 'fields',
        reason: 'Salesforce requires "LastName" to create a record; map a field or a toCrm formula to it',
      },
    ]);
    expect(
      validateMapping({ object: 'Contact', emailField: 'Mail', fields: [email, lastName] }, context),
    ).toEqual(expect.arrayContaining([{ name: 'matchField', reason: '"Mail" is not a field of Contact' }]));
    expect(
      validateMapping(
        { object: 'Contact', emailField: 'Score__c', fields: [email, lastName, region] },
        context,
      ),
    ).toEqual([
      { name: 'matchField', reason: '"Score__c" is a number field; records are matched on an e-mail' },
    ]);
    expect(validateMapping({ object: 'Account', emailField: 'Email', fields: [] }, context)).toEqual([
      {
        name: 'object',
        reason: 'Salesforce object "Account" cannot be synced by this connection (it syncs: Contact, Lead)',
      },
    ]);
  });

  it('a value read from an associated record names a known object and flows from the CRM only', () => {
    const problems = validateMapping(
      {
        object: 'Contact',
        emailField: 'Email',
        fields: [
          email,
          lastName,
          region,
          {
            local: 'company',
            associated: { object: 'Galaxy', field: 'Name' },
            direction: 'both',
            codec: 'text',
          },
        ],
      },
      { ...context, crmObjects: ['Contact', 'Account'] },
    );
    expect(problems).toEqual([
      { name: 'fields[3].associated.object', reason: '"Galaxy" is not an object of Salesforce' },
      {
        name: 'fields[3].direction',
        reason: 'a value read only from an associated record can only flow from_crm',
      },
    ]);
  });
});

describe('company mapping validation', () => {
  const ACCOUNT_FIELDS = [
    field('Name', 'string', { required: true }),
    field('Website', 'url'),
    field('Tier__c', 'string'),
    field('Employees__c', 'number'),
    field('Rating__c', 'picklist', { options: [{ value: 'Hot', label: 'Hot' }] }),
    field('CreatedDate', 'datetime', { readOnly: true }),
  ];
  const name: FieldMappingEntry = { local: 'name' as never, crm: 'Name', direction: 'both', codec: 'text' };
  const website: FieldMappingEntry = {
    local: 'domain' as never,
    crm: 'Website',
    direction: 'both',
    codec: 'domain',
  };
  const ACCOUNT_DEFAULTS: ObjectMapping = { object: 'Account', emailField: '', fields: [name, website] };
  const companyContext: MappingValidationContext = {
    syncableObjects: ['Contact', 'Account'],
    crmFields: ACCOUNT_FIELDS,
    defaults: ACCOUNT_DEFAULTS,
    crmName: 'Salesforce',
    subject: 'company',
  };
  const companyProblems = (fields: FieldMappingEntry[], overrides: Partial<ObjectMapping> = {}) =>
    validateMapping(
      { ...ACCOUNT_DEFAULTS, fields: [...ACCOUNT_DEFAULTS.fields, ...fields], ...overrides },
      companyContext,
    );

  it('accepts company fields and company custom fields, with no e-mail key', () => {
    expect(
      companyProblems([
        { local: 'customFields.tier', crm: 'Tier__c', direction: 'both', codec: 'text' },
        { local: 'customFields.size', crm: 'Employees__c', direction: 'both', codec: 'text' },
        {
          local: 'customFields.rating',
          crm: 'Rating__c',
          direction: 'both',
          codec: 'text',
          valueMap: { toCrm: { hot: 'Hot' }, fromCrm: { Hot: 'hot' } },
        },
      ]),
    ).toEqual([]);
  });

  it('names each company problem: contact fields, codecs, read-only, types, duplicates, key, name', () => {
    const problems = companyProblems(
      [
        { local: 'firstName', crm: 'Tier__c', direction: 'both', codec: 'text' },
        { local: 'customFields.a', crm: 'Tier__c', direction: 'both', codec: 'email' },
        {
          local: 'customFields.b',
          crm: 'Tier__c',
          direction: 'from_crm',
          codec: 'text',
          associated: { object: 'Contact', field: 'Name' },
        },
        { local: 'customFields.c', crm: 'CreatedDate', direction: 'both', codec: 'text' },
        { local: 'customFields.d', crm: 'Nope__c', direction: 'from_crm', codec: 'text' },
        { local: 'customFields.e', crm: 'Rating__c', direction: 'to_crm', codec: 'text' },
        { local: 'domain' as never, crm: 'Employees__c', direction: 'to_crm', codec: 'text' },
        { local: 'name' as never, crm: 'Website', direction: 'from_crm', codec: 'text' },
      ],
      { emailField: 'Website' },
    );
    const byName = (at: string) => problems.filter((problem) => problem.name === at).map((p) => p.reason);
    expect(byName('matchField')).toEqual([
      'companies are matched by their domain, else their name; leave matchField out',
    ]);
    expect(byName('fields[2].local')[0]).toContain('"firstName" is not a PenguinMails company field');
    expect(byName('fields[3].codec')).toEqual(['a company field is copied as text or domain, not "email"']);
    expect(byName('fields[4].associated')).toEqual(['company mappings do not read associated records']);
    expect(byName('fields[5].direction')[0]).toContain('"CreatedDate" is read-only');
    expect(byName('fields[6].crm')).toEqual(['"Nope__c" is not a field of this CRM object']);
    expect(byName('fields[7].valueMap')[0]).toContain('"Rating__c" is a picklist');
    expect(byName('fields[8].crm')[0]).toContain('"Employees__c" is a number field; the text of domain');
    expect(byName('fields[3].crm')[0]).toContain('"Tier__c" is already written by fields[2]');
    expect(byName('fields[9].local')[0]).toContain('"name" is already written by fields[0]');

    expect(
      validateMapping({ ...ACCOUNT_DEFAULTS, fields: [website] }, companyContext).map((p) => p.reason),
    ).toEqual([
      'a company mapping needs a CRM field mapped to name',
      'Salesforce requires "Name" to create a record; map a field or a toCrm formula to it',
    ]);
  });

  it('accepts company formulas both ways: a computed CRM field with no company field, a custom field from the CRM', () => {
    expect(
      companyProblems([
        {
          crm: 'Tier__c',
          direction: 'to_crm',
          codec: 'text',
          formula: { toCrm: "$uppercase(name) & ' / ' & customFields.region" },
        },
        {
          local: 'customFields.size',
          direction: 'from_crm',
          codec: 'text',
          formula: { fromCrm: "$string(Employees__c) & ' people'" },
        },
      ]),
    ).toEqual([]);
  });

  it('names each company formula problem: syntax, unknown fields either way, direction, the fields companies match by', () => {
    const problems = companyProblems([
      { crm: 'Tier__c', direction: 'to_crm', codec: 'text', formula: { toCrm: '$uppercase(name' } },
      { crm: 'Rating__c', direction: 'to_crm', codec: 'text', formula: { toCrm: 'firstName' } },
      {
        local: 'customFields.size',
        direction: 'from_crm',
        codec: 'text',
        formula: { fromCrm: 'Headcount__c' },
      },
      {
        local: 'customFields.tier',
        crm: 'Employees__c',
        direction: 'both',
        codec: 'text',
        formula: { toCrm: 'name' },
      },
      { local: 'domain' as never, direction: 'from_crm', codec: 'domain', formula: { fromCrm: 'Name' } },
      { direction: 'to_crm', codec: 'text' },
    ]);
    const byName = (at: string) => problems.filter((problem) => problem.name === at).map((p) => p.reason);
    expect(byName('fields[2].formula.toCrm')[0]).toContain('not a valid JSONata formula');
    expect(byName('fields[3].formula.toCrm')).toEqual(['reads "firstName", which is not a field here']);
    expect(byName('fields[4].formula.fromCrm')).toEqual(['reads "Headcount__c", which is not a field here']);
    expect(byName('fields[5].local')).toEqual([
      'a field computed by a toCrm formula has no PenguinMails field; leave it out',
    ]);
    expect(byName('fields[5].direction')).toEqual(['a toCrm formula flows to the CRM only: use "to_crm"']);
    expect(byName('fields[6].formula.fromCrm')[0]).toContain(
      'companies are matched by name and domain as the CRM holds them; a formula cannot compute domain',
    );
    expect(byName('fields[7].local')[0]).toContain('a PenguinMails field is required, or a toCrm formula');
    expect(byName('fields[7].crm')).toEqual(['a CRM field is required (or a fromCrm formula)']);
  });

  it('refuses a company object the connection cannot sync', () => {
    expect(
      validateMapping({ ...ACCOUNT_DEFAULTS }, { ...companyContext, syncableObjects: ['Contact'] }),
    ).toEqual([
      {
        name: 'object',
        reason: 'Salesforce object "Account" cannot be synced by this connection (it syncs: Contact)',
      },
    ]);
  });
});
