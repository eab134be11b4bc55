import type {
  DefaultCompanyMappings,
  DefaultFieldMappings,
  FieldMappingEntry,
  LocalContactField,
} from '@pm/integration-port';

const both = (local: LocalContactField, crm: string, codec: FieldMappingEntry['codec'] = 'text') =>
  ({ local, crm, direction: 'both', codec }) as const satisfies FieldMappingEntry;

/**
 * The persons' default mapping. The connector flattens a person's e-mail and phone lists to their primary values
 * (`email`, `phone`); the company is the name of the person's organization (`org_id`, reported as the
 * `organizations` association), read only: a person's organization is not renamed through the person.
 */
export const PIPEDRIVE_DEFAULT_MAPPINGS: DefaultFieldMappings = {
  persons: {
    object: 'persons',
    emailField: 'email',
    fields: [
      both('email', 'email', 'email'),
      both('firstName', 'first_name'),
      both('lastName', 'last_name'),
      both('phone', 'phone'),
      both('title', 'job_title'),
      {
        local: 'company',
        associated: { object: 'organizations', field: 'name' },
        direction: 'from_crm',
        codec: 'text',
      },
    ],
  },
};

/**
 * Organizations as companies: the name, and the domain kept in `website`. A person belongs to its organization
 * through `org_id`.
 */
export const PIPEDRIVE_DEFAULT_COMPANY_MAPPINGS: DefaultCompanyMappings = {
  organizations: {
    object: 'organizations',
    fields: [
      { local: 'name', crm: 'name', direction: 'both', codec: 'text' },
      { local: 'domain', crm: 'website', direction: 'both', codec: 'domain' },
    ],
    associates: ['persons'],
  },
};
