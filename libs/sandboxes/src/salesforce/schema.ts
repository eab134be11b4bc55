// sObject metadata for the sandbox's objects: what describe returns, what SOQL checks names against, and what the
// write paths validate. Field names, types and flags follow the Salesforce "Object Reference" (Contact, Lead,
// Account, Task, EmailMessage) and the REST API's "sObject Describe" / "Describe Global" resources.
// Simplified: only the commonly used standard fields are present (see the README section).

import type { SoqlField, SoqlFieldType, SoqlObject } from './soql';

export type SalesforceObjectName = 'Contact' | 'Lead' | 'Account' | 'Task' | 'EmailMessage' | 'User';

export interface FieldDefinition extends SoqlField {
  label: string;
  /** Characters for text types; 0 otherwise (as describe reports). */
  length: number;
  createable: boolean;
  updateable: boolean;
  nillable: boolean;
  externalId: boolean;
  unique: boolean;
  /** Set by the platform when the create request leaves it out (so not "required" even though not nillable). */
  defaultValue?: string | boolean | number;
  defaultedOnCreate: boolean;
  picklistValues: string[];
  /** A system field the sandbox sets itself (Id, CreatedDate, SystemModstamp, ...). */
  calculated: boolean;
}

export interface ObjectDefinition extends SoqlObject {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  fields: FieldDefinition[];
  /** Objects the REST API does not let clients write (User here). */
  writable: boolean;
}

/** A custom field added through the sandbox options, e.g. `{ name: 'PenguinMails_Id__c', type: 'string', externalId: true }`. */
export interface CustomFieldSpec {
  name: string;
  label?: string;
  type: SoqlFieldType;
  length?: number;
  externalId?: boolean;
  unique?: boolean;
  required?: boolean;
  picklistValues?: string[];
  referenceTo?: string;
}

type FieldOptions = Partial<Omit<FieldDefinition, 'name' | 'type'>>;

const DEFAULT_LENGTH: Partial<Record<SoqlFieldType, number>> = {
  id: 18,
  reference: 18,
  string: 255,
  email: 80,
  phone: 40,
  url: 255,
  textarea: 32000,
  picklist: 255,
};

function field(name: string, type: SoqlFieldType, options: FieldOptions = {}): FieldDefinition {
  const label =
    options.label ??
    name
      .replace(/__c$/, '')
      .replace(/Id$/, type === 'reference' ? ' ID' : 'Id')
      .replace(/_/g, ' ')
      .replace(/([a-z])([A-Z])/g, '$1 $2');
  return {
    name,
    type,
    label,
    custom: name.endsWith('__c'),
    length: options.length ?? DEFAULT_LENGTH[type] ?? 0,
    createable: true,
    updateable: true,
    nillable: type !== 'boolean',
    externalId: false,
    unique: false,
    defaultedOnCreate: type === 'boolean',
    picklistValues: [],
    calculated: false,
    ...options,
    // Long text areas cannot be filtered on; a short one (an address street, 255) can.
    filterable:
      options.filterable ?? (type !== 'textarea' || (options.length ?? DEFAULT_LENGTH[type] ?? 0) <= 255),
  };
}

/** Read-only fields the platform maintains. */
function system(name: string, type: SoqlFieldType, options: FieldOptions = {}): FieldDefinition {
  return field(name, type, {
    createable: false,
    updateable: false,
    nillable: false,
    defaultedOnCreate: true,
    calculated: true,
    ...options,
  });
}

function required(name: string, type: SoqlFieldType, options: FieldOptions = {}): FieldDefinition {
  return field(name, type, { nillable: false, ...options });
}

function reference(
  name: string,
  referenceTo: string[],
  relationshipName: string,
  options: FieldOptions = {},
) {
  return field(name, 'reference', { referenceTo, relationshipName, ...options });
}

function auditFields(): FieldDefinition[] {
  return [
    system('IsDeleted', 'boolean', { label: 'Deleted' }),
    system('CreatedDate', 'datetime', { label: 'Created Date' }),
    system('CreatedById', 'reference', {
      label: 'Created By ID',
      referenceTo: ['User'],
      relationshipName: 'CreatedBy',
    }),
    system('LastModifiedDate', 'datetime', { label: 'Last Modified Date' }),
    system('LastModifiedById', 'reference', {
      label: 'Last Modified By ID',
      referenceTo: ['User'],
      relationshipName: 'LastModifiedBy',
    }),
    system('SystemModstamp', 'datetime', { label: 'System Modstamp' }),
  ];
}

function idField(): FieldDefinition {
  return system('Id', 'id', { label: `Record ID`, length: 18 });
}

function owner(): FieldDefinition {
  return reference('OwnerId', ['User'], 'Owner', {
    label: 'Owner ID',
    nillable: false,
    defaultedOnCreate: true,
  });
}

const LEAD_SOURCES = ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Other'];
const SALUTATIONS = ['Mr.', 'Ms.', 'Mrs.', 'Dr.', 'Prof.'];

function address(prefix: string, label: string): FieldDefinition[] {
  return [
    field(`${prefix}Street`, 'textarea', { label: `${label} Street`, length: 255 }),
    field(`${prefix}City`, 'string', { label: `${label} City`, length: 40 }),
    field(`${prefix}State`, 'string', { label: `${label} State/Province`, length: 80 }),
    field(`${prefix}PostalCode`, 'string', { label: `${label} Zip/Postal Code`, length: 20 }),
    field(`${prefix}Country`, 'string', { label: `${label} Country`, length: 80 }),
  ];
}

function standardObjects(): ObjectDefinition[] {
  return [
    {
      name: 'Contact',
      label: 'Contact',
      labelPlural: 'Contacts',
      keyPrefix: '003',
      writable: true,
      fields: [
        idField(),
        reference('AccountId', ['Account'], 'Account', { label: 'Account ID' }),
        required('LastName', 'string', { label: 'Last Name', length: 80 }),
        field('FirstName', 'string', { label: 'First Name', length: 40 }),
        field('Salutation', 'picklist', { picklistValues: SALUTATIONS, length: 40 }),
        system('Name', 'string', { label: 'Full Name', length: 121 }),
        ...address('Mailing', 'Mailing'),
        field('Phone', 'phone', { label: 'Business Phone' }),
        field('MobilePhone', 'phone', { label: 'Mobile Phone' }),
        field('Email', 'email'),
        field('Title', 'string', { length: 128 }),
        field('Department', 'string', { length: 80 }),
        field('LeadSource', 'picklist', { label: 'Lead Source', picklistValues: LEAD_SOURCES, length: 255 }),
        field('Description', 'textarea', { label: 'Contact Description' }),
        field('HasOptedOutOfEmail', 'boolean', { label: 'Email Opt Out', defaultValue: false }),
        field('EmailBouncedReason', 'string', { label: 'Email Bounced Reason', length: 255 }),
        field('EmailBouncedDate', 'datetime', { label: 'Email Bounced Date' }),
        owner(),
        ...auditFields(),
        system('LastActivityDate', 'date', { label: 'Last Activity', nillable: true }),
      ],
    },
    {
      name: 'Lead',
      label: 'Lead',
      labelPlural: 'Leads',
      keyPrefix: '00Q',
      writable: true,
      fields: [
        idField(),
        required('LastName', 'string', { label: 'Last Name', length: 80 }),
        field('FirstName', 'string', { label: 'First Name', length: 40 }),
        field('Salutation', 'picklist', { picklistValues: SALUTATIONS, length: 40 }),
        system('Name', 'string', { label: 'Full Name', length: 121 }),
        field('Title', 'string', { length: 128 }),
        required('Company', 'string', { length: 255 }),
        ...address('', ''),
        field('Phone', 'phone'),
        field('MobilePhone', 'phone', { label: 'Mobile Phone' }),
        field('Email', 'email'),
        field('Website', 'url'),
        field('Description', 'textarea'),
        field('LeadSource', 'picklist', { label: 'Lead Source', picklistValues: LEAD_SOURCES }),
        required('Status', 'picklist', {
          picklistValues: [
            'Open - Not Contacted',
            'Working - Contacted',
            'Closed - Converted',
            'Closed - Not Converted',
          ],
          defaultValue: 'Open - Not Contacted',
          defaultedOnCreate: true,
        }),
        field('Industry', 'picklist', {
          picklistValues: ['Technology', 'Finance', 'Healthcare', 'Retail', 'Other'],
        }),
        field('Rating', 'picklist', { picklistValues: ['Hot', 'Warm', 'Cold'] }),
        field('AnnualRevenue', 'currency', { label: 'Annual Revenue' }),
        field('NumberOfEmployees', 'int', { label: 'Employees' }),
        field('HasOptedOutOfEmail', 'boolean', { label: 'Email Opt Out', defaultValue: false }),
        field('EmailBouncedReason', 'string', { label: 'Email Bounced Reason', length: 255 }),
        field('EmailBouncedDate', 'datetime', { label: 'Email Bounced Date' }),
        owner(),
        system('IsConverted', 'boolean', { label: 'Converted' }),
        system('ConvertedDate', 'date', { label: 'Converted Date', nillable: true }),
        system('ConvertedContactId', 'reference', {
          label: 'Converted Contact ID',
          nillable: true,
          referenceTo: ['Contact'],
          relationshipName: 'ConvertedContact',
        }),
        system('ConvertedAccountId', 'reference', {
          label: 'Converted Account ID',
          nillable: true,
          referenceTo: ['Account'],
          relationshipName: 'ConvertedAccount',
        }),
        ...auditFields(),
      ],
    },
    {
      name: 'Account',
      label: 'Account',
      labelPlural: 'Accounts',
      keyPrefix: '001',
      writable: true,
      fields: [
        idField(),
        required('Name', 'string', { label: 'Account Name', length: 255 }),
        field('Type', 'picklist', {
          label: 'Account Type',
          picklistValues: ['Prospect', 'Customer', 'Partner', 'Other'],
        }),
        reference('ParentId', ['Account'], 'Parent', { label: 'Parent Account ID' }),
        ...address('Billing', 'Billing'),
        field('Phone', 'phone', { label: 'Account Phone' }),
        field('Website', 'url'),
        field('Industry', 'picklist', {
          picklistValues: ['Technology', 'Finance', 'Healthcare', 'Retail', 'Other'],
        }),
        field('AnnualRevenue', 'currency', { label: 'Annual Revenue' }),
        field('NumberOfEmployees', 'int', { label: 'Employees' }),
        field('Description', 'textarea', { label: 'Account Description' }),
        owner(),
        ...auditFields(),
      ],
    },
    {
      name: 'Task',
      label: 'Task',
      labelPlural: 'Tasks',
      keyPrefix: '00T',
      writable: true,
      fields: [
        idField(),
        reference('WhoId', ['Contact', 'Lead'], 'Who', { label: 'Name ID' }),
        reference('WhatId', ['Account'], 'What', { label: 'Related To ID' }),
        field('Subject', 'string', { length: 255 }),
        field('ActivityDate', 'date', { label: 'Due Date Only' }),
        required('Status', 'picklist', {
          picklistValues: ['Not Started', 'In Progress', 'Completed', 'Waiting on someone else', 'Deferred'],
          defaultValue: 'Not Started',
          defaultedOnCreate: true,
        }),
        required('Priority', 'picklist', {
          picklistValues: ['High', 'Normal', 'Low'],
          defaultValue: 'Normal',
          defaultedOnCreate: true,
        }),
        field('Type', 'picklist', { picklistValues: ['Call', 'Email', 'Meeting', 'Other'] }),
        field('TaskSubtype', 'picklist', {
          label: 'Task Subtype',
          picklistValues: ['Task', 'Email', 'ListEmail', 'Cadence', 'Call'],
          updateable: false,
        }),
        field('Description', 'textarea', { label: 'Comments' }),
        field('CompletedDateTime', 'datetime', {
          label: 'Completed Date/Time',
          createable: false,
          updateable: false,
        }),
        system('IsClosed', 'boolean', { label: 'Closed' }),
        owner(),
        ...auditFields(),
      ],
    },
    {
      name: 'EmailMessage',
      label: 'Email Message',
      labelPlural: 'Email Messages',
      keyPrefix: '02s',
      writable: true,
      fields: [
        idField(),
        reference('RelatedToId', ['Account', 'Contact', 'Lead'], 'RelatedTo', { label: 'Related To ID' }),
        system('ActivityId', 'reference', {
          label: 'Activity ID',
          nillable: true,
          referenceTo: ['Task'],
          relationshipName: 'Activity',
        }),
        field('Subject', 'string', { length: 3000 }),
        field('TextBody', 'textarea', { label: 'Text Body' }),
        field('HtmlBody', 'textarea', { label: 'HTML Body' }),
        field('FromAddress', 'email', { label: 'From Address' }),
        field('FromName', 'string', { label: 'From Name', length: 1000 }),
        field('ToAddress', 'string', { label: 'To Address', length: 4000 }),
        field('CcAddress', 'string', { label: 'CC Address', length: 4000 }),
        field('BccAddress', 'string', { label: 'BCC Address', length: 4000 }),
        field('Incoming', 'boolean', { label: 'Is Incoming', defaultValue: false }),
        // Status codes: 0 New, 1 Read, 2 Replied, 3 Sent, 4 Forwarded, 5 Draft.
        required('Status', 'picklist', { picklistValues: ['0', '1', '2', '3', '4', '5'] }),
        field('MessageDate', 'datetime', { label: 'Message Date' }),
        field('MessageIdentifier', 'string', { label: 'Message ID', length: 995 }),
        ...auditFields(),
      ],
    },
    {
      name: 'User',
      label: 'User',
      labelPlural: 'Users',
      keyPrefix: '005',
      writable: false,
      fields: [
        idField(),
        field('Username', 'string', { length: 80 }),
        field('FirstName', 'string', { length: 40 }),
        field('LastName', 'string', { length: 80 }),
        system('Name', 'string', { label: 'Full Name', length: 121 }),
        field('Email', 'email', { length: 128 }),
        field('IsActive', 'boolean', { label: 'Active' }),
        ...auditFields(),
      ],
    },
  ];
}

/** Custom fields every sandbox has unless the options replace them: an external id the product can upsert on. */
export const DEFAULT_CUSTOM_FIELDS: Partial<Record<SalesforceObjectName, CustomFieldSpec[]>> = {
  Contact: [
    {
      name: 'PenguinMails_Id__c',
      label: 'PenguinMails ID',
      type: 'string',
      length: 64,
      externalId: true,
      unique: true,
    },
  ],
  Lead: [
    {
      name: 'PenguinMails_Id__c',
      label: 'PenguinMails ID',
      type: 'string',
      length: 64,
      externalId: true,
      unique: true,
    },
  ],
};

function addCustomField(object: ObjectDefinition, spec: CustomFieldSpec): void {
  if (!spec.name.endsWith('__c')) throw new Error(`custom field ${spec.name} must end in __c`);
  object.fields.push(
    field(spec.name, spec.type, {
      label: spec.label,
      length: spec.length,
      externalId: spec.externalId ?? false,
      unique: spec.unique ?? false,
      nillable: !spec.required,
      picklistValues: spec.picklistValues ?? [],
      referenceTo: spec.referenceTo ? [spec.referenceTo] : undefined,
      relationshipName: spec.referenceTo ? spec.name.replace(/__c$/, '__r') : undefined,
    }),
  );
}

/** The objects of one sandbox instance: standard ones plus the configured custom fields. */
export class SalesforceSchema {
  private readonly byLowerName = new Map<string, ObjectDefinition>();
  private readonly byPrefix = new Map<string, ObjectDefinition>();

  constructor(
    customFields: Partial<Record<SalesforceObjectName, CustomFieldSpec[]>> = DEFAULT_CUSTOM_FIELDS,
  ) {
    for (const object of standardObjects()) {
      for (const spec of customFields[object.name as SalesforceObjectName] ?? [])
        addCustomField(object, spec);
      this.byLowerName.set(object.name.toLowerCase(), object);
      this.byPrefix.set(object.keyPrefix, object);
    }
  }

  /** An admin adding a custom field in Setup while the org runs: describe shows it from then on. */
  addCustomField(objectName: SalesforceObjectName, spec: CustomFieldSpec): void {
    const object = this.object(objectName);
    if (!object) throw new Error(`no object ${objectName}`);
    if (this.field(object, spec.name)) throw new Error(`${objectName}.${spec.name} already exists`);
    addCustomField(object, spec);
  }

  object(name: string): ObjectDefinition | undefined {
    return this.byLowerName.get(name.toLowerCase());
  }

  objectForId(id: string): ObjectDefinition | undefined {
    return this.byPrefix.get(id.slice(0, 3));
  }

  objects(): ObjectDefinition[] {
    return [...this.byLowerName.values()];
  }

  field(object: ObjectDefinition, name: string): FieldDefinition | undefined {
    const lower = name.toLowerCase();
    return object.fields.find((candidate) => candidate.name.toLowerCase() === lower);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Describe shapes (REST API: sObject Describe, Describe Global)

const SOAP_TYPES: Record<SoqlFieldType, string> = {
  id: 'tns:ID',
  reference: 'tns:ID',
  string: 'xsd:string',
  email: 'xsd:string',
  phone: 'xsd:string',
  url: 'xsd:string',
  textarea: 'xsd:string',
  picklist: 'xsd:string',
  boolean: 'xsd:boolean',
  datetime: 'xsd:dateTime',
  date: 'xsd:date',
  double: 'xsd:double',
  int: 'xsd:int',
  currency: 'xsd:double',
};

function objectUrls(version: string, object: ObjectDefinition): Record<string, string> {
  const base = `/services/data/v${version}/sobjects/${object.name}`;
  return {
    sobject: base,
    describe: `${base}/describe`,
    rowTemplate: `${base}/{ID}`,
  };
}

export function describeGlobalEntry(version: string, object: ObjectDefinition): Record<string, unknown> {
  return {
    activateable: false,
    createable: object.writable,
    custom: false,
    customSetting: false,
    deepCloneable: false,
    deletable: object.writable,
    deprecatedAndHidden: false,
    feedEnabled: true,
    hasSubtypes: false,
    isInterface: false,
    isSubtype: false,
    keyPrefix: object.keyPrefix,
    label: object.label,
    labelPlural: object.labelPlural,
    layoutable: true,
    mergeable: object.name === 'Contact' || object.name === 'Lead' || object.name === 'Account',
    mruEnabled: true,
    name: object.name,
    queryable: true,
    replicateable: true,
    retrieveable: true,
    searchable: true,
    triggerable: true,
    undeletable: object.writable,
    updateable: object.writable,
    urls: objectUrls(version, object),
  };
}

export function describeField(definition: FieldDefinition): Record<string, unknown> {
  const isText = DEFAULT_LENGTH[definition.type] !== undefined;
  const isNumber =
    definition.type === 'double' || definition.type === 'currency' || definition.type === 'int';
  return {
    aggregatable: definition.type !== 'textarea',
    autoNumber: false,
    byteLength: isText ? definition.length * 3 : 0,
    calculated: definition.calculated && definition.name === 'Name',
    calculatedFormula: null,
    cascadeDelete: false,
    caseSensitive: false,
    compoundFieldName: null,
    controllerName: null,
    createable: definition.createable,
    custom: definition.custom,
    defaultValue: definition.defaultValue ?? null,
    defaultValueFormula: null,
    defaultedOnCreate: definition.defaultedOnCreate,
    dependentPicklist: false,
    deprecatedAndHidden: false,
    digits: definition.type === 'int' ? 8 : 0,
    displayLocationInDecimal: false,
    encrypted: false,
    externalId: definition.externalId,
    extraTypeInfo: null,
    filterable: definition.filterable !== false,
    filteredLookupInfo: null,
    groupable: definition.type !== 'textarea' && definition.type !== 'datetime',
    highScaleNumber: false,
    htmlFormatted: false,
    idLookup: definition.type === 'id' || definition.externalId || definition.name === 'Email',
    inlineHelpText: null,
    label: definition.label,
    length: definition.length,
    mask: null,
    maskType: null,
    name: definition.name,
    nameField: definition.name === 'Name',
    namePointing:
      definition.name === 'WhoId' || definition.name === 'WhatId' || definition.name === 'RelatedToId',
    nillable: definition.nillable,
    permissionable: !definition.calculated && definition.nillable,
    picklistValues: definition.picklistValues.map((value) => ({
      active: true,
      defaultValue: definition.defaultValue === value,
      label: value,
      validFor: null,
      value,
    })),
    polymorphicForeignKey: (definition.referenceTo?.length ?? 0) > 1,
    precision: isNumber && definition.type !== 'int' ? 18 : 0,
    queryByDistance: false,
    referenceTargetField: null,
    referenceTo: definition.referenceTo ?? [],
    relationshipName: definition.relationshipName ?? null,
    relationshipOrder: null,
    restrictedDelete: false,
    restrictedPicklist: false,
    scale: definition.type === 'currency' ? 2 : 0,
    soapType: SOAP_TYPES[definition.type],
    sortable: definition.type !== 'textarea',
    type: definition.type,
    unique: definition.unique,
    updateable: definition.updateable,
    writeRequiresMasterRead: false,
  };
}

export function describeObject(version: string, object: ObjectDefinition, schema: SalesforceSchema) {
  const childRelationships = schema.objects().flatMap((child) =>
    child.fields
      .filter((candidate) => candidate.referenceTo?.includes(object.name) && candidate.relationshipName)
      .map((candidate) => ({
        cascadeDelete: false,
        childSObject: child.name,
        deprecatedAndHidden: false,
        field: candidate.name,
        junctionIdListNames: [],
        junctionReferenceTo: [],
        relationshipName: child.labelPlural.replace(/\s/g, ''),
        restrictedDelete: false,
      })),
  );
  return {
    ...describeGlobalEntry(version, object),
    actionOverrides: [],
    childRelationships,
    compactLayoutable: true,
    fields: object.fields.map(describeField),
    listviewable: null,
    lookupLayoutable: null,
    namedLayoutInfos: [],
    networkScopeFieldName: null,
    recordTypeInfos: [],
    searchLayoutable: true,
    supportedScopes: [
      { label: 'All contacts', name: 'everything' },
      { label: 'My contacts', name: 'mine' },
    ].filter((scope) => object.name === 'Contact' || scope.name === 'everything'),
  };
}
