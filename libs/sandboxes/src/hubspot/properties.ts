// Property metadata ("field metadata") for the sandbox's object types.
// Shapes follow https://developers.hubspot.com/docs/api/crm/properties (GET /crm/v3/properties/{objectType}).
// The HubSpot-defined sets are the subset of the real ones this product reads and writes, not all of them.
import { HubSpotObjectType, HUBSPOT_OBJECT_TYPES } from './object-types';

export type PropertyType = 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool';
export type PropertyFieldType =
  | 'text'
  | 'textarea'
  | 'number'
  | 'date'
  | 'select'
  | 'radio'
  | 'checkbox'
  | 'booleancheckbox'
  | 'phonenumber'
  | 'html'
  | 'file'
  | 'calculation_equation';

export interface PropertyOption {
  label: string;
  value: string;
  displayOrder: number;
  hidden: boolean;
  description?: string;
}

/** One property as GET /crm/v3/properties/{objectType} returns it. */
export interface PropertyDefinition {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: PropertyFieldType;
  description: string;
  groupName: string;
  options: PropertyOption[];
  displayOrder: number;
  calculated: boolean;
  externalOptions: boolean;
  hasUniqueValue: boolean;
  hidden: boolean;
  hubspotDefined?: boolean;
  formField: boolean;
  modificationMetadata: { archivable: boolean; readOnlyDefinition: boolean; readOnlyValue: boolean };
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

interface PropertySeed {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: PropertyFieldType;
  groupName: string;
  options?: string[];
  readOnlyValue?: boolean;
  hasUniqueValue?: boolean;
}

const CONTACT_PROPERTIES: PropertySeed[] = [
  { name: 'email', label: 'Email', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
  {
    name: 'firstname',
    label: 'First Name',
    type: 'string',
    fieldType: 'text',
    groupName: 'contactinformation',
  },
  {
    name: 'lastname',
    label: 'Last Name',
    type: 'string',
    fieldType: 'text',
    groupName: 'contactinformation',
  },
  {
    name: 'phone',
    label: 'Phone Number',
    type: 'string',
    fieldType: 'phonenumber',
    groupName: 'contactinformation',
  },
  {
    name: 'mobilephone',
    label: 'Mobile Phone Number',
    type: 'string',
    fieldType: 'phonenumber',
    groupName: 'contactinformation',
  },
  {
    name: 'company',
    label: 'Company Name',
    type: 'string',
    fieldType: 'text',
    groupName: 'contactinformation',
  },
  {
    name: 'jobtitle',
    label: 'Job Title',
    type: 'string',
    fieldType: 'text',
    groupName: 'contactinformation',
  },
  {
    name: 'website',
    label: 'Website URL',
    type: 'string',
    fieldType: 'text',
    groupName: 'contactinformation',
  },
  { name: 'city', label: 'City', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
  {
    name: 'state',
    label: 'State/Region',
    type: 'string',
    fieldType: 'text',
    groupName: 'contactinformation',
  },
  {
    name: 'country',
    label: 'Country/Region',
    type: 'string',
    fieldType: 'text',
    groupName: 'contactinformation',
  },
  { name: 'zip', label: 'Postal Code', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
  {
    name: 'lifecyclestage',
    label: 'Lifecycle Stage',
    type: 'enumeration',
    fieldType: 'radio',
    groupName: 'contactinformation',
    options: [
      'subscriber',
      'lead',
      'marketingqualifiedlead',
      'salesqualifiedlead',
      'opportunity',
      'customer',
      'evangelist',
      'other',
    ],
  },
  {
    name: 'hs_lead_status',
    label: 'Lead Status',
    type: 'enumeration',
    fieldType: 'radio',
    groupName: 'sales_properties',
    options: [
      'NEW',
      'OPEN',
      'IN_PROGRESS',
      'OPEN_DEAL',
      'UNQUALIFIED',
      'ATTEMPTED_TO_CONTACT',
      'CONNECTED',
      'BAD_TIMING',
    ],
  },
  {
    name: 'hubspot_owner_id',
    label: 'Contact owner',
    type: 'enumeration',
    fieldType: 'select',
    groupName: 'sales_properties',
  },
  {
    name: 'associatedcompanyid',
    label: 'Primary Associated Company ID',
    type: 'number',
    fieldType: 'number',
    groupName: 'contactinformation',
    readOnlyValue: true,
  },
  {
    name: 'createdate',
    label: 'Create Date',
    type: 'datetime',
    fieldType: 'date',
    groupName: 'contactinformation',
  },
  {
    name: 'lastmodifieddate',
    label: 'Last Modified Date',
    type: 'datetime',
    fieldType: 'date',
    groupName: 'contactinformation',
    readOnlyValue: true,
  },
  {
    name: 'hs_object_id',
    label: 'Record ID',
    type: 'number',
    fieldType: 'number',
    groupName: 'contactinformation',
    readOnlyValue: true,
    hasUniqueValue: true,
  },
];

const COMPANY_PROPERTIES: PropertySeed[] = [
  { name: 'name', label: 'Company name', type: 'string', fieldType: 'text', groupName: 'companyinformation' },
  {
    name: 'domain',
    label: 'Company Domain Name',
    type: 'string',
    fieldType: 'text',
    groupName: 'companyinformation',
  },
  {
    name: 'website',
    label: 'Website URL',
    type: 'string',
    fieldType: 'text',
    groupName: 'companyinformation',
  },
  {
    name: 'phone',
    label: 'Phone Number',
    type: 'string',
    fieldType: 'phonenumber',
    groupName: 'companyinformation',
  },
  { name: 'city', label: 'City', type: 'string', fieldType: 'text', groupName: 'companyinformation' },
  {
    name: 'state',
    label: 'State/Region',
    type: 'string',
    fieldType: 'text',
    groupName: 'companyinformation',
  },
  {
    name: 'country',
    label: 'Country/Region',
    type: 'string',
    fieldType: 'text',
    groupName: 'companyinformation',
  },
  {
    name: 'industry',
    label: 'Industry',
    type: 'enumeration',
    fieldType: 'select',
    groupName: 'companyinformation',
    options: [
      'COMPUTER_SOFTWARE',
      'INFORMATION_TECHNOLOGY_AND_SERVICES',
      'MARKETING_AND_ADVERTISING',
      'FINANCIAL_SERVICES',
      'HOSPITAL_HEALTH_CARE',
      'RETAIL',
      'EDUCATION_MANAGEMENT',
      'CONSTRUCTION',
    ],
  },
  {
    name: 'numberofemployees',
    label: 'Number of Employees',
    type: 'number',
    fieldType: 'number',
    groupName: 'companyinformation',
  },
  {
    name: 'annualrevenue',
    label: 'Annual Revenue',
    type: 'number',
    fieldType: 'number',
    groupName: 'companyinformation',
  },
  {
    name: 'description',
    label: 'Description',
    type: 'string',
    fieldType: 'textarea',
    groupName: 'companyinformation',
  },
  {
    name: 'hubspot_owner_id',
    label: 'Company owner',
    type: 'enumeration',
    fieldType: 'select',
    groupName: 'companyinformation',
  },
  {
    name: 'createdate',
    label: 'Create Date',
    type: 'datetime',
    fieldType: 'date',
    groupName: 'companyinformation',
  },
  {
    name: 'hs_lastmodifieddate',
    label: 'Last Modified Date',
    type: 'datetime',
    fieldType: 'date',
    groupName: 'companyinformation',
    readOnlyValue: true,
  },
  {
    name: 'hs_object_id',
    label: 'Record ID',
    type: 'number',
    fieldType: 'number',
    groupName: 'companyinformation',
    readOnlyValue: true,
    hasUniqueValue: true,
  },
];

const EMAIL_PROPERTIES: PropertySeed[] = [
  { name: 'hs_timestamp', label: 'Activity date', type: 'datetime', fieldType: 'date', groupName: 'email' },
  {
    name: 'hs_email_direction',
    label: 'Email direction',
    type: 'enumeration',
    fieldType: 'select',
    groupName: 'email',
    options: ['EMAIL', 'INCOMING_EMAIL', 'FORWARDED_EMAIL'],
  },
  {
    name: 'hs_email_status',
    label: 'Email send status',
    type: 'enumeration',
    fieldType: 'select',
    groupName: 'email',
    options: ['BOUNCED', 'FAILED', 'SCHEDULED', 'SENDING', 'SENT'],
  },
  { name: 'hs_email_subject', label: 'Email subject', type: 'string', fieldType: 'text', groupName: 'email' },
  { name: 'hs_email_text', label: 'Email body', type: 'string', fieldType: 'textarea', groupName: 'email' },
  { name: 'hs_email_html', label: 'Email HTML body', type: 'string', fieldType: 'html', groupName: 'email' },
  {
    name: 'hs_email_headers',
    label: 'Email headers',
    type: 'string',
    fieldType: 'textarea',
    groupName: 'email',
  },
  {
    name: 'hs_attachment_ids',
    label: 'Attachment IDs',
    type: 'enumeration',
    fieldType: 'checkbox',
    groupName: 'email',
  },
  {
    name: 'hubspot_owner_id',
    label: 'Activity assigned to',
    type: 'enumeration',
    fieldType: 'select',
    groupName: 'email',
  },
  { name: 'hs_createdate', label: 'Create date', type: 'datetime', fieldType: 'date', groupName: 'email' },
  {
    name: 'hs_lastmodifieddate',
    label: 'Last modified date',
    type: 'datetime',
    fieldType: 'date',
    groupName: 'email',
    readOnlyValue: true,
  },
  {
    name: 'hs_object_id',
    label: 'Record ID',
    type: 'number',
    fieldType: 'number',
    groupName: 'email',
    readOnlyValue: true,
    hasUniqueValue: true,
  },
];

const SEEDS: Record<HubSpotObjectType, PropertySeed[]> = {
  contacts: CONTACT_PROPERTIES,
  companies: COMPANY_PROPERTIES,
  emails: EMAIL_PROPERTIES,
};

/** The date HubSpot-defined properties claim to have been created (a fixed value keeps snapshots stable). */
const HUBSPOT_DEFINED_AT = '2019-08-06T02:41:52.000Z';

function definitionFromSeed(seed: PropertySeed, index: number): PropertyDefinition {
  return {
    name: seed.name,
    label: seed.label,
    type: seed.type,
    fieldType: seed.fieldType,
    description: '',
    groupName: seed.groupName,
    options: (seed.options ?? []).map((value, displayOrder) => ({
      label: value,
      value,
      displayOrder,
      hidden: false,
    })),
    displayOrder: index,
    calculated: false,
    externalOptions: seed.name === 'hubspot_owner_id',
    hasUniqueValue: seed.hasUniqueValue ?? false,
    hidden: false,
    hubspotDefined: true,
    formField: seed.type !== 'datetime' && !seed.readOnlyValue,
    modificationMetadata: {
      archivable: false,
      readOnlyDefinition: true,
      readOnlyValue: seed.readOnlyValue ?? false,
    },
    createdAt: HUBSPOT_DEFINED_AT,
    updatedAt: HUBSPOT_DEFINED_AT,
    archived: false,
  };
}

/** Input of POST /crm/v3/properties/{objectType} (PropertyCreate in the SDK). */
export interface PropertyCreateInput {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: PropertyFieldType;
  groupName: string;
  description?: string;
  options?: Array<{
    label: string;
    value: string;
    displayOrder?: number;
    hidden?: boolean;
    description?: string;
  }>;
  displayOrder?: number;
  hasUniqueValue?: boolean;
  hidden?: boolean;
  formField?: boolean;
}

/** The properties of every object type in one sandbox portal: HubSpot-defined ones plus the custom ones created. */
export class PropertyRegistry {
  private readonly byType = new Map<HubSpotObjectType, Map<string, PropertyDefinition>>();

  constructor() {
    this.reset();
  }

  reset(): void {
    for (const objectType of HUBSPOT_OBJECT_TYPES) {
      const definitions = new Map<string, PropertyDefinition>();
      SEEDS[objectType].forEach((seed, index) => definitions.set(seed.name, definitionFromSeed(seed, index)));
      this.byType.set(objectType, definitions);
    }
  }

  list(objectType: HubSpotObjectType): PropertyDefinition[] {
    return [...this.definitions(objectType).values()];
  }

  get(objectType: HubSpotObjectType, name: string): PropertyDefinition | undefined {
    return this.definitions(objectType).get(name);
  }

  has(objectType: HubSpotObjectType, name: string): boolean {
    return this.definitions(objectType).has(name);
  }

  /** Adds a custom property; the caller has checked that the name is free. */
  create(objectType: HubSpotObjectType, input: PropertyCreateInput, now: Date): PropertyDefinition {
    const definitions = this.definitions(objectType);
    const definition: PropertyDefinition = {
      name: input.name,
      label: input.label,
      type: input.type,
      fieldType: input.fieldType,
      description: input.description ?? '',
      groupName: input.groupName,
      options: (input.options ?? []).map((option, index) => ({
        label: option.label,
        value: option.value,
        displayOrder: option.displayOrder ?? index,
        hidden: option.hidden ?? false,
        ...(option.description === undefined ? {} : { description: option.description }),
      })),
      displayOrder: input.displayOrder ?? -1,
      calculated: false,
      externalOptions: false,
      hasUniqueValue: input.hasUniqueValue ?? false,
      hidden: input.hidden ?? false,
      formField: input.formField ?? false,
      modificationMetadata: { archivable: true, readOnlyDefinition: false, readOnlyValue: false },
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      archived: false,
    };
    definitions.set(definition.name, definition);
    return definition;
  }

  /** Properties whose value identifies one record, usable as `idProperty` (email counts for contacts). */
  isIdProperty(objectType: HubSpotObjectType, name: string): boolean {
    if (objectType === 'contacts' && name === 'email') return true;
    return this.get(objectType, name)?.hasUniqueValue ?? false;
  }

  private definitions(objectType: HubSpotObjectType): Map<string, PropertyDefinition> {
    const definitions = this.byType.get(objectType);
    if (!definitions) throw new Error(`No property registry for ${objectType}`);
    return definitions;
  }
}
