import type { FieldDescriptor } from '../../types';

/** The in-memory CRM's objects and fields, with the validation rules it applies to each value. */

export interface FieldSchema {
  descriptor: FieldDescriptor;
  /** Returns the CRM's message when the value is not acceptable. */
  validate?: (value: unknown) => string | undefined;
}

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function field(
  name: string,
  label: string,
  type: FieldDescriptor['type'],
  extra: Partial<FieldDescriptor> = {},
  validate?: FieldSchema['validate'],
): FieldSchema {
  return {
    descriptor: {
      name,
      label,
      type,
      crmType: type.toUpperCase(),
      required: false,
      readOnly: false,
      custom: false,
      ...extra,
    },
    validate,
  };
}

const text =
  (max: number) =>
  (value: unknown): string | undefined =>
    value === null || (typeof value === 'string' && value.length <= max)
      ? undefined
      : `Value must be text of at most ${max} characters`;

const LIFECYCLE_STAGES = ['subscriber', 'lead', 'customer'];

export const SCHEMAS: Readonly<
  Record<string, { label: string; fields: FieldSchema[]; emailField?: string; required: string[] }>
> = {
  contacts: {
    label: 'Contacts',
    emailField: 'email',
    required: ['email'],
    fields: [
      field('email', 'Email', 'email', { required: true }, (value) =>
        typeof value === 'string' && EMAIL_PATTERN.test(value)
          ? undefined
          : `Email address ${String(value)} is invalid`,
      ),
      field('firstname', 'First name', 'string', {}, text(80)),
      field('lastname', 'Last name', 'string', {}, text(80)),
      field('phone', 'Phone', 'phone', {}, text(40)),
      field('company', 'Company name', 'string', {}, text(120)),
      // A tenant's own key for a contact (an id from another system), for matching on a field other than the e-mail.
      field('external_id', 'External ID', 'string', { custom: true }, text(80)),
      field(
        'lifecyclestage',
        'Lifecycle stage',
        'picklist',
        { options: LIFECYCLE_STAGES.map((value) => ({ value, label: value })) },
        (value) =>
          value === null || LIFECYCLE_STAGES.includes(String(value))
            ? undefined
            : `${String(value)} is not a valid lifecycle stage`,
      ),
    ],
  },
  companies: {
    label: 'Companies',
    required: ['name'],
    fields: [
      field('name', 'Name', 'string', { required: true }, (value) =>
        typeof value === 'string' && value.trim() !== '' ? undefined : 'Name is required',
      ),
      field('domain', 'Domain', 'url', {}, text(253)),
      // A tenant's own company fields, for company mappings with custom fields.
      field('tier', 'Tier', 'string', { custom: true }, text(80)),
      field('region', 'Region', 'string', { custom: true }, text(80)),
      field('owner', 'Owner', 'string', { custom: true }, text(80)),
    ],
  },
};

export const READ_ONLY_FIELDS: FieldDescriptor[] = [
  {
    name: 'id',
    label: 'Record ID',
    type: 'id',
    crmType: 'ID',
    required: false,
    readOnly: true,
    custom: false,
  },
  {
    name: 'createdate',
    label: 'Created',
    type: 'datetime',
    crmType: 'DATETIME',
    required: false,
    readOnly: true,
    custom: false,
  },
  {
    name: 'lastmodifieddate',
    label: 'Last modified',
    type: 'datetime',
    crmType: 'DATETIME',
    required: false,
    readOnly: true,
    custom: false,
  },
];
