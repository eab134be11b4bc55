import type {
  DefaultCompanyMappings,
  DefaultFieldMappings,
  FieldMappingEntry,
  LocalContactField,
} from '@pm/integration-port';

const both = (local: LocalContactField, crm: string, codec: FieldMappingEntry['codec'] = 'text') =>
  ({ local, crm, direction: 'both', codec }) as const satisfies FieldMappingEntry;

/**
 * The contact objects' default mapping. A Contact's company is its Account's name, read through the `Account.Name`
 * relation field and never written through the contact (the Account is its own record); a Lead keeps the company
 * as its own text field, and its status as the lead status.
 */
export const SALESFORCE_DEFAULT_MAPPINGS: DefaultFieldMappings = {
  Contact: {
    object: 'Contact',
    emailField: 'Email',
    fields: [
      both('email', 'Email', 'email'),
      both('firstName', 'FirstName'),
      both('lastName', 'LastName'),
      both('title', 'Title'),
      both('phone', 'Phone'),
      { local: 'company', crm: 'Account.Name', direction: 'from_crm', codec: 'text' },
    ],
  },
  Lead: {
    object: 'Lead',
    emailField: 'Email',
    fields: [
      both('email', 'Email', 'email'),
      both('firstName', 'FirstName'),
      both('lastName', 'LastName'),
      both('title', 'Title'),
      both('phone', 'Phone'),
      both('company', 'Company'),
      both('leadStatus', 'Status'),
    ],
  },
};

/**
 * Accounts as companies: the name, and the domain kept in `Website` (Salesforce has no domain field; a web address
 * there reads as its host). A Contact belongs to its Account through `AccountId`; a Lead has none.
 */
export const SALESFORCE_DEFAULT_COMPANY_MAPPINGS: DefaultCompanyMappings = {
  Account: {
    object: 'Account',
    fields: [
      { local: 'name', crm: 'Name', direction: 'both', codec: 'text' },
      { local: 'domain', crm: 'Website', direction: 'both', codec: 'domain' },
    ],
    associates: ['Contact'],
  },
};
