import type {
  DefaultCompanyMappings,
  DefaultFieldMappings,
  FieldMappingEntry,
  LocalContactField,
} from '@pm/integration-port';

const both = (local: LocalContactField, crm: string, codec: FieldMappingEntry['codec'] = 'text') =>
  ({ local, crm, direction: 'both', codec }) as const satisfies FieldMappingEntry;

/**
 * The contacts' default mapping. The company is the name of the contact's first associated company where it has
 * one; otherwise, and on every write, the contact's own `company` text property ("Company name"), so the company
 * record itself is never touched through the contact.
 */
export const HUBSPOT_DEFAULT_MAPPINGS: DefaultFieldMappings = {
  contacts: {
    object: 'contacts',
    emailField: 'email',
    fields: [
      both('email', 'email', 'email'),
      both('firstName', 'firstname'),
      both('lastName', 'lastname'),
      {
        local: 'company',
        crm: 'company',
        associated: { object: 'companies', field: 'name' },
        direction: 'both',
        codec: 'text',
      },
      both('title', 'jobtitle'),
      both('phone', 'phone'),
      both('lifecycleStage', 'lifecyclestage'),
    ],
  },
};

/** Companies: `name` and `domain` (HubSpot's own company key); a contact is associated with its company (v4). */
export const HUBSPOT_DEFAULT_COMPANY_MAPPINGS: DefaultCompanyMappings = {
  companies: {
    object: 'companies',
    fields: [
      { local: 'name', crm: 'name', direction: 'both', codec: 'text' },
      { local: 'domain', crm: 'domain', direction: 'both', codec: 'domain' },
    ],
    associates: ['contacts'],
  },
};
