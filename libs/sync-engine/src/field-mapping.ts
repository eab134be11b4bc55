import { CONTACT_TEXT_FIELDS } from '@pm/domain/model';
import type { CrmRecord, ProviderId } from '@pm/integration-port';

/**
 * The default field mapping per CRM object, kept in this one place (not in each connector). The field-mapping
 * work extends it: a tenant's own mapping is another `FieldMappingSource`, and an entry may later carry a jsonata
 * formula beside or instead of its codec. Everything here is data.
 */

/** The PenguinMails contact fields the engine can sync. */
export const LOCAL_CONTACT_FIELDS = ['email', ...CONTACT_TEXT_FIELDS] as const;
export type LocalContactField = (typeof LOCAL_CONTACT_FIELDS)[number];

/** Local contact values in local form: text or null (empty). */
export type LocalValues = Partial<Record<LocalContactField, string | null>>;

/** Which way a field may flow, before the connection's own direction narrows it further. */
export type MappingDirection = 'both' | 'to_crm' | 'from_crm';

/**
 * How a value crosses between the two sides. `text`: trimmed string, empty is null. `email`: text, lower-cased.
 * `primary_of_list`: the CRM holds a list of `{ value, primary }` (Pipedrive e-mails and phones); the local side
 * holds the primary one, and a write sends a one-element list marked primary.
 */
export type ValueCodec = 'text' | 'email' | 'primary_of_list';

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

export interface FieldMappingEntry {
  local: LocalContactField;
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
}

export interface ObjectMapping {
  provider: ProviderId;
  /** The CRM's own object name ('Contact', 'contacts', 'persons'). */
  object: string;
  /** The CRM field holding the e-mail used for matching. */
  emailField: string;
  fields: FieldMappingEntry[];
}

const both = (local: LocalContactField, crm: string, codec: ValueCodec = 'text'): FieldMappingEntry => ({
  local,
  crm,
  direction: 'both',
  codec,
});
const fromCrm = (local: LocalContactField, crm: string): FieldMappingEntry => ({
  local,
  crm,
  direction: 'from_crm',
  codec: 'text',
});
const fromAssociation = (local: LocalContactField, object: string, field: string): FieldMappingEntry => ({
  local,
  associated: { object, field },
  direction: 'from_crm',
  codec: 'text',
});

/**
 * provider → CRM object → mapping. Company data follows the contact's association where the CRM keeps the
 * company as its own record: a Salesforce Contact's Account (the `Account.Name` relation field), a HubSpot
 * contact's first associated company, a Pipedrive person's organization. None of them is written through the
 * contact except HubSpot's own `company` text property (the contact's "Company name"), which stays mapped both
 * ways and is what a HubSpot contact without an associated company shows.
 */
export const DEFAULT_FIELD_MAPPINGS: Readonly<Record<ProviderId, Readonly<Record<string, ObjectMapping>>>> = {
  salesforce: {
    Contact: {
      provider: 'salesforce',
      object: 'Contact',
      emailField: 'Email',
      fields: [
        both('email', 'Email', 'email'),
        both('firstName', 'FirstName'),
        both('lastName', 'LastName'),
        both('title', 'Title'),
        both('phone', 'Phone'),
        fromCrm('company', 'Account.Name'),
      ],
    },
    Lead: {
      provider: 'salesforce',
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
  },
  hubspot: {
    contacts: {
      provider: 'hubspot',
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
  },
  pipedrive: {
    // The connector flattens a person's e-mail and phone lists to their primary values (`email`, `phone`); the
    // company is the name of the person's organization (`org_id`, reported as the `organizations` association).
    persons: {
      provider: 'pipedrive',
      object: 'persons',
      emailField: 'email',
      fields: [
        both('email', 'email', 'email'),
        both('firstName', 'first_name'),
        both('lastName', 'last_name'),
        both('phone', 'phone'),
        both('title', 'job_title'),
        fromAssociation('company', 'organizations', 'name'),
      ],
    },
  },
};

/** Where the engine gets an object's mapping: the defaults now, a tenant's own mapping later. */
export interface FieldMappingSource {
  mappingFor(provider: ProviderId, object: string): ObjectMapping | undefined;
}

export class DefaultFieldMappingSource implements FieldMappingSource {
  constructor(
    private readonly mappings: Readonly<
      Record<ProviderId, Readonly<Record<string, ObjectMapping>>>
    > = DEFAULT_FIELD_MAPPINGS,
  ) {}

  mappingFor(provider: ProviderId, object: string): ObjectMapping | undefined {
    return this.mappings[provider]?.[object];
  }
}

/** The CRM fields to ask a read for: every mapped field's top-level name (a dotted path asks for its relation). */
export function crmFieldsToRead(mapping: ObjectMapping): string[] {
  const own = mapping.fields.flatMap((entry) => (entry.crm === undefined ? [] : [entry.crm]));
  return [...new Set([mapping.emailField, ...own])];
}

/** The associated objects a mapping reads from, each with the fields to ask `getRecords` for. */
export function associatedReads(mapping: ObjectMapping): { object: string; fields: string[] }[] {
  const byObject = new Map<string, Set<string>>();
  for (const entry of mapping.fields) {
    if (!entry.associated) continue;
    const fields = byObject.get(entry.associated.object) ?? new Set<string>();
    fields.add(entry.associated.field);
    byObject.set(entry.associated.object, fields);
  }
  return [...byObject].map(([object, fields]) => ({ object, fields: [...fields] }));
}

/** The one associated record of `object` a contact's value comes from: the first the CRM lists. */
function associatedId(record: Pick<CrmRecord, 'associations'>, object: string): string | undefined {
  return record.associations?.[object]?.[0];
}

/** Of these records, the associated ids to read per object (deduplicated), for one `getRecords` call each. */
export function associatedIdsToRead(
  mapping: ObjectMapping,
  records: readonly Pick<CrmRecord, 'associations'>[],
): { object: string; fields: string[]; ids: string[] }[] {
  return associatedReads(mapping)
    .map((read) => ({
      ...read,
      ids: [
        ...new Set(
          records.map((record) => associatedId(record, read.object)).filter((id) => id !== undefined),
        ),
      ],
    }))
    .filter((read) => read.ids.length > 0);
}

/** Associated records as read, by object and then id. */
export type AssociatedRecords = ReadonlyMap<string, ReadonlyMap<string, Pick<CrmRecord, 'fields'>>>;

/**
 * The values a record's associated records give its mapping, keyed `object.field`. A key is present only when
 * the record is associated with a record that was found; otherwise the entry falls back to the contact's own
 * field (`crm`), or to null when it has none.
 */
export function associatedValuesOf(
  mapping: ObjectMapping,
  record: Pick<CrmRecord, 'associations'>,
  associated: AssociatedRecords,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const entry of mapping.fields) {
    if (!entry.associated) continue;
    const id = associatedId(record, entry.associated.object);
    const found = id === undefined ? undefined : associated.get(entry.associated.object)?.get(id);
    if (found) values[associatedKey(entry.associated)] = found.fields[entry.associated.field] ?? null;
  }
  return values;
}

const associatedKey = (associated: AssociatedField): string => `${associated.object}.${associated.field}`;

function readPath(fields: Record<string, unknown>, path: string): unknown {
  if (path in fields) return fields[path];
  let current: unknown = fields;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function toText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = (typeof value === 'string' ? value : String(value)).trim();
  return text === '' ? null : text;
}

function primaryOfList(value: unknown): string | null {
  if (!Array.isArray(value)) return toText(value);
  const items = value.filter(
    (item): item is { value?: unknown; primary?: unknown } => item !== null && typeof item === 'object',
  );
  const primary = items.find((item) => item.primary === true) ?? items[0];
  return primary === undefined ? null : toText(primary.value);
}

/**
 * A CRM value in local form, through the entry's codec. E-mails are always compared lower-cased. `associated`
 * holds the record's associated values (`associatedValuesOf`); they win over the contact's own field.
 */
export function decodeCrmValue(
  entry: FieldMappingEntry,
  fields: Record<string, unknown>,
  associated: Record<string, unknown> = {},
): string | null {
  const fromAssociation = entry.associated && associatedKey(entry.associated) in associated;
  const raw = fromAssociation
    ? associated[associatedKey(entry.associated as AssociatedField)]
    : entry.crm === undefined
      ? null
      : readPath(fields, entry.crm);
  const value = entry.codec === 'primary_of_list' ? primaryOfList(raw) : toText(raw);
  return entry.codec === 'email' || entry.local === 'email' ? (value?.toLowerCase() ?? null) : value;
}

/** A local value in the CRM's form, through the entry's codec. */
export function encodeLocalValue(entry: FieldMappingEntry, value: string | null): unknown {
  if (entry.codec === 'primary_of_list') {
    return value === null ? [] : [{ value, primary: true, label: 'work' }];
  }
  return value;
}

/** A normalised local value, so '  x ' and 'x', '' and null compare equal. */
export function normaliseLocalValue(field: LocalContactField, value: unknown): string | null {
  const text = toText(value);
  return field === 'email' ? (text?.toLowerCase() ?? null) : text;
}

/** Every mapped field of a CRM record, in local form; `associated` as in `decodeCrmValue`. */
export function decodeCrmRecord(
  mapping: ObjectMapping,
  fields: Record<string, unknown>,
  associated: Record<string, unknown> = {},
): LocalValues {
  const values: LocalValues = {};
  for (const entry of mapping.fields) values[entry.local] = decodeCrmValue(entry, fields, associated);
  return values;
}

/** The e-mail a CRM record is matched by, normalised; null when it has none. */
export function crmRecordEmail(mapping: ObjectMapping, fields: Record<string, unknown>): string | null {
  const entry = mapping.fields.find((candidate) => candidate.crm === mapping.emailField);
  return decodeCrmValue(
    entry ?? { local: 'email', crm: mapping.emailField, direction: 'both', codec: 'email' },
    fields,
  );
}

/** The CRM write payload for local values, only for fields the mapping lets flow to the CRM. */
export function encodeForCrm(mapping: ObjectMapping, values: LocalValues): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  for (const entry of mapping.fields) {
    if (entry.direction === 'from_crm' || entry.crm === undefined || !(entry.local in values)) continue;
    payload[entry.crm] = encodeLocalValue(entry, values[entry.local] ?? null);
  }
  return payload;
}
