// The CRM object types this sandbox serves, with the identifiers HubSpot uses for each.
// Follows https://developers.hubspot.com/docs/api/crm/understanding-the-crm (object type ids 0-1, 0-2, 0-49).

export const HUBSPOT_OBJECT_TYPES = ['contacts', 'companies', 'emails'] as const;
export type HubSpotObjectType = (typeof HUBSPOT_OBJECT_TYPES)[number];

export interface ObjectTypeInfo {
  /** Plural name used in URLs: `contacts`. */
  name: HubSpotObjectType;
  /** Singular name used in association type names: `contact_to_company`. */
  singular: string;
  /** HubSpot's object type id (`0-1` for contacts). */
  objectTypeId: string;
  /** Upper-case name used in error messages ("Could not get some CONTACT objects"). */
  errorName: string;
  /** Property holding the last-modified time (search filters and sorts use it). */
  lastModifiedProperty: string;
  /** Property holding the creation time. */
  createdProperty: string;
  /** Properties returned when the caller names none. */
  defaultProperties: readonly string[];
}

export const OBJECT_TYPE_INFO: Record<HubSpotObjectType, ObjectTypeInfo> = {
  contacts: {
    name: 'contacts',
    singular: 'contact',
    objectTypeId: '0-1',
    errorName: 'CONTACT',
    lastModifiedProperty: 'lastmodifieddate',
    createdProperty: 'createdate',
    defaultProperties: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
  },
  companies: {
    name: 'companies',
    singular: 'company',
    objectTypeId: '0-2',
    errorName: 'COMPANY',
    lastModifiedProperty: 'hs_lastmodifieddate',
    createdProperty: 'createdate',
    defaultProperties: ['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name'],
  },
  emails: {
    name: 'emails',
    singular: 'email',
    objectTypeId: '0-49',
    errorName: 'EMAIL',
    lastModifiedProperty: 'hs_lastmodifieddate',
    createdProperty: 'hs_createdate',
    defaultProperties: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  },
};

/** Accepts the plural name, the singular name or the object type id, as HubSpot's URLs do. */
export function resolveObjectType(raw: string): HubSpotObjectType | undefined {
  const lower = raw.toLowerCase();
  for (const info of Object.values(OBJECT_TYPE_INFO)) {
    if (lower === info.name || lower === info.singular || lower === info.objectTypeId) return info.name;
  }
  return undefined;
}
