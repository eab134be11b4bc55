import type { DefaultFieldMappings } from '../../field-mapping';
import type { DefaultCompanyMappings } from '../../company-mapping';

/**
 * The in-memory CRM's contacts mapped like HubSpot's (it has no job title): the company is the first associated
 * company's name where the contact reports one, else its own `company` property.
 */
export const IN_MEMORY_DEFAULT_MAPPINGS: DefaultFieldMappings = {
  contacts: {
    object: 'contacts',
    emailField: 'email',
    fields: [
      { local: 'email', crm: 'email', direction: 'both', codec: 'email' },
      { local: 'firstName', crm: 'firstname', direction: 'both', codec: 'text' },
      { local: 'lastName', crm: 'lastname', direction: 'both', codec: 'text' },
      {
        local: 'company',
        crm: 'company',
        associated: { object: 'companies', field: 'name' },
        direction: 'both',
        codec: 'text',
      },
      { local: 'phone', crm: 'phone', direction: 'both', codec: 'text' },
      { local: 'lifecycleStage', crm: 'lifecyclestage', direction: 'both', codec: 'text' },
    ],
  },
};

/** The in-memory CRM's companies: a name and a domain, matched by either; contacts associate with them. */
export const IN_MEMORY_DEFAULT_COMPANY_MAPPINGS: DefaultCompanyMappings = {
  companies: {
    object: 'companies',
    fields: [
      { local: 'name', crm: 'name', direction: 'both', codec: 'text' },
      { local: 'domain', crm: 'domain', direction: 'both', codec: 'domain' },
    ],
    associates: ['contacts'],
  },
};
