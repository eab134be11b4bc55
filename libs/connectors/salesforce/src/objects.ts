import type { ObjectCapability } from '@pm/integration-port';

/** What the connector knows about each Salesforce object it syncs. */
export interface SalesforceObjectSpec {
  capability: ObjectCapability;
  /**
   * The first three characters of every id of this object, the same in every org ("Working with Record IDs":
   * 003 Contact, 00Q Lead, 001 Account, 00T Task), so an id of another object is never deleted by mistake.
   */
  keyPrefix: string;
  /** Fields read when the caller names none (standard fields every org has). */
  defaultFields: string[];
}

/** Fields every read asks for: the cursor needs the stamp and the id, deletions need IsDeleted. */
export const SYSTEM_FIELDS = ['Id', 'IsDeleted', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp'];

export const SALESFORCE_OBJECTS: readonly SalesforceObjectSpec[] = [
  {
    capability: {
      name: 'Contact',
      label: 'Contacts',
      role: 'contact',
      emailField: 'Email',
      reportsDeletions: true,
      // No server-side upsert by e-mail (Email is not an external id), but upsertBatch looks the e-mail up in the
      // same call before creating (unless the caller matched it: createsMatched), so a create retried after a lost
      // response finds the first one.
      upsertByEmail: true,
    },
    keyPrefix: '003',
    defaultFields: [
      'FirstName',
      'LastName',
      'Email',
      'Phone',
      'MobilePhone',
      'Title',
      'Department',
      'AccountId',
      'LeadSource',
      'HasOptedOutOfEmail',
      'MailingCity',
      'MailingCountry',
      'OwnerId',
    ],
  },
  {
    capability: {
      name: 'Lead',
      label: 'Leads',
      role: 'contact',
      emailField: 'Email',
      reportsDeletions: true,
      upsertByEmail: true,
    },
    keyPrefix: '00Q',
    defaultFields: [
      'FirstName',
      'LastName',
      'Email',
      'Phone',
      'Title',
      'Company',
      'Status',
      'LeadSource',
      'HasOptedOutOfEmail',
      'City',
      'Country',
      'IsConverted',
    ],
  },
  {
    capability: {
      name: 'Account',
      label: 'Accounts',
      role: 'company',
      reportsDeletions: true,
      upsertByEmail: false,
    },
    keyPrefix: '001',
    defaultFields: ['Name', 'Type', 'Website', 'Phone', 'Industry', 'NumberOfEmployees'],
  },
  {
    capability: {
      name: 'Task',
      label: 'Tasks',
      role: 'activity',
      reportsDeletions: true,
      upsertByEmail: false,
    },
    keyPrefix: '00T',
    defaultFields: ['Subject', 'WhoId', 'WhatId', 'ActivityDate', 'Status', 'TaskSubtype', 'Description'],
  },
];

/** The spec of a supported object by its API name (case-insensitive, as Salesforce names are). */
export function objectSpec(name: string): SalesforceObjectSpec | undefined {
  const lower = name.toLowerCase();
  return SALESFORCE_OBJECTS.find((spec) => spec.capability.name.toLowerCase() === lower);
}

/** The fields a read selects: the caller's or the defaults, plus the system fields, each once. */
export function selectFields(
  spec: SalesforceObjectSpec | undefined,
  requested: string[] | undefined,
): string[] {
  const wanted = requested ?? spec?.defaultFields ?? [];
  const seen = new Set<string>();
  const fields: string[] = [];
  for (const field of [...SYSTEM_FIELDS, ...wanted]) {
    const key = field.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      fields.push(field);
    }
  }
  return fields;
}
