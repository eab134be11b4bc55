/**
 * Field mappings as data: which PenguinMails contact field a CRM field holds, which way it flows and how its value
 * crosses. Each connector declares its defaults (`ConnectorCapabilities.defaultMappings`) beside its other
 * capabilities; the engine reads them through the port and knows no CRM field name. A tenant's own mapping (the
 * field-mapping work) is built from the same types.
 */

/** A PenguinMails contact's text fields besides the e-mail: what the API edits and what a mapping can name. */
export const CONTACT_TEXT_FIELDS = [
  'firstName',
  'lastName',
  'company',
  'title',
  'phone',
  'lifecycleStage',
  'leadStatus',
] as const;
export type ContactTextField = (typeof CONTACT_TEXT_FIELDS)[number];

/** The PenguinMails contact's standard fields a mapping can sync: the e-mail and the text fields. */
export const LOCAL_CONTACT_FIELDS = ['email', ...CONTACT_TEXT_FIELDS] as const;
export type StandardContactField = (typeof LOCAL_CONTACT_FIELDS)[number];

/** Where a tenant's own contact fields live: `customFields.<name>` names one key of the contact's `customFields`. */
export const CUSTOM_FIELD_PREFIX = 'customFields.';
export type LocalCustomField = `customFields.${string}`;

/** A PenguinMails contact field a mapping can name: a standard field or one of the tenant's custom fields. */
export type LocalContactField = StandardContactField | LocalCustomField;

/** A custom field's name (`favouriteColour` of `customFields.favouriteColour`); undefined for a standard field. */
export function customFieldName(field: string): string | undefined {
  return field.startsWith(CUSTOM_FIELD_PREFIX) && field.length > CUSTOM_FIELD_PREFIX.length
    ? field.slice(CUSTOM_FIELD_PREFIX.length)
    : undefined;
}

/** Whether `field` is a local field a mapping may name. */
export function isLocalContactField(field: string): field is LocalContactField {
  return (
    (LOCAL_CONTACT_FIELDS as readonly string[]).includes(field) ||
    /^customFields\.[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(field)
  );
}

/** Which way a field may flow, before the connection's own direction narrows it further. */
export type MappingDirection = 'both' | 'to_crm' | 'from_crm';

/**
 * How a value crosses between the two sides. `text`: trimmed string, empty is null. `email`: text, normalised
 * (trimmed, lower-cased). `primary_of_list`: the CRM holds a list of `{ value, primary }` (Pipedrive e-mails and
 * phones); the local side holds the primary one, and a write sends a one-element list marked primary. `domain`: a
 * host name, lower-cased, from a bare domain or a web address (a company's website; `normaliseDomain`).
 */
export type ValueCodec = 'text' | 'email' | 'primary_of_list' | 'domain';

/**
 * A value that lives on an associated record (a HubSpot contact's company, a Pipedrive person's organization):
 * the field of the first record of `object` the contact is associated with (`CrmRecord.associations[object]`).
 */
export interface AssociatedField {
  /** The association's key on `CrmRecord.associations`, and the object `getRecords` reads ('companies'). */
  object: string;
  /** The associated record's field ('name'). */
  field: string;
}

/** Values translated on the way across, per direction (a PenguinMails lifecycle stage ↔ a CRM lead status). */
export interface ValueMap {
  /** PenguinMails value → CRM value. */
  toCrm?: Readonly<Record<string, string>>;
  /** CRM value → PenguinMails value. */
  fromCrm?: Readonly<Record<string, string>>;
}

/**
 * JSONata formulas computing a value on the way across. `toCrm` reads the PenguinMails contact (`email`,
 * `firstName`, …, `customFields`) and gives the CRM field's value; `fromCrm` reads the CRM record's fields and
 * gives the local field's value. A formula replaces the plain copy in its direction.
 */
export interface FieldFormulas {
  toCrm?: string;
  fromCrm?: string;
}

/** One field's mapping. `Local`: the local fields it may name (contacts' by default; companies' share the type). */
export interface FieldMappingEntry<Local extends string = LocalContactField> {
  /**
   * The PenguinMails field. Absent only for a field computed by a `toCrm` formula, which flows to the CRM only; the
   * entry is then keyed by its CRM field (`mappingKey`).
   */
  local?: Local;
  /**
   * The contact's own CRM field: what a write sets, and what a read takes when `associated` gives no value. A
   * dotted path reads a related record's field ('Account.Name'). Absent: the value exists only on the association
   * (a Pipedrive person's organization), so the entry flows from the CRM only.
   */
  crm?: string;
  /** Read first from the associated record, where the contact has one (see `AssociatedField`). */
  associated?: AssociatedField;
  direction: MappingDirection;
  codec: ValueCodec;
  valueMap?: ValueMap;
  formula?: FieldFormulas;
}

/** The key an entry's values and synced base are held under: its local field, else `=<crm field>`. */
export function mappingKey(entry: { local?: string; crm?: string }): string {
  return entry.local ?? `=${entry.crm ?? ''}`;
}

/** The PenguinMails side of a matching key: the contact's e-mail, or one of its custom fields. */
export type MatchingLocalField = 'email' | LocalCustomField;

/**
 * What an unlinked record is matched on: a PenguinMails field and the CRM field holding the same value (a custom
 * external id, a second e-mail field). Matched exactly as text, except that an e-mail on either side is normalised.
 */
export interface MatchingKey {
  local: MatchingLocalField;
  crm: string;
}

/** How one CRM object's records map onto PenguinMails contacts. */
export interface ObjectMapping {
  /** The CRM's own object name ('Contact', 'contacts', 'persons'). */
  object: string;
  /** The connector's e-mail field of the object: the contact's e-mail, and the default matching key. */
  emailField: string;
  /**
   * The matching key, when it is not the default (the contact's e-mail ↔ `emailField`). Absent in every mapping
   * stored before keys were configurable, which therefore still match on the e-mail.
   */
  matchKey?: MatchingKey;
  fields: readonly FieldMappingEntry[];
}

/** A connector's default mapping per CRM object name (only the objects it can sync as contacts). */
export type DefaultFieldMappings = Readonly<Record<string, ObjectMapping>>;
