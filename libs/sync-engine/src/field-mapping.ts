import { normaliseEmail } from '@pm/connector-kit';
import {
  mappingKey,
  normaliseDomain,
  type AssociatedField,
  type CrmRecord,
  type FieldMappingEntry,
  type IntegrationPort,
  type ObjectMapping,
} from '@pm/integration-port';
import { formulaInputFields } from './mapping-formulas';

/**
 * How the engine applies a field mapping: the CRM fields a read asks for, the associated records it needs, and each
 * value's way across (decode from the CRM, encode for it). The mappings themselves are data from elsewhere: each
 * connector's defaults (`ConnectorCapabilities.defaultMappings`), later a tenant's own. No CRM field name lives
 * here.
 */

export {
  LOCAL_CONTACT_FIELDS,
  CUSTOM_FIELD_PREFIX,
  customFieldName,
  isLocalContactField,
  mappingKey,
  type AssociatedField,
  type FieldFormulas,
  type StandardContactField,
  type ValueMap,
  type FieldMappingEntry,
  type LocalContactField,
  type MappingDirection,
  type ObjectMapping,
  type ValueCodec,
} from '@pm/integration-port';

/**
 * Values in local form, by mapping key (`mappingKey`: the local field, e.g. `firstName` or
 * `customFields.favouriteColour`, or `=<crm field>` for a value a formula computes for the CRM): text or null.
 */
export type LocalValues = Partial<Record<string, string | null>>;

/** The connection a mapping is asked for: a tenant's mapping is per connection. */
export interface MappingConnection {
  id: string;
  tenantId: string;
  provider: string;
}

/**
 * Where the engine gets an object's mapping: a tenant's own per connection (stored), else the connector's defaults.
 * The runner asks once per object at the start of a run, so a change takes effect on the next run.
 */
export interface FieldMappingSource {
  mappingFor(
    connection: MappingConnection,
    object: string,
  ): ObjectMapping | undefined | Promise<ObjectMapping | undefined>;
}

/** A connector's own default mapping, as its capabilities declare it (made per port, so the provider is its own). */
export class DefaultFieldMappingSource implements FieldMappingSource {
  constructor(private readonly port: Pick<IntegrationPort, 'capabilities'>) {}

  mappingFor(_connection: MappingConnection | null, object: string): ObjectMapping | undefined {
    const mappings = this.port.capabilities().defaultMappings;
    return Object.hasOwn(mappings, object) ? mappings[object] : undefined;
  }
}

/**
 * The CRM objects a connection can sync: those its connector declares a default mapping for (a tenant's mapping
 * starts from it). Anything else is refused when chosen, rather than accepted and silently ignored.
 */
export function syncableObjects(port: Pick<IntegrationPort, 'capabilities'>): string[] {
  const { objects, defaultMappings } = port.capabilities();
  return objects.map((object) => object.name).filter((name) => Object.hasOwn(defaultMappings, name));
}

/** The CRM fields a `fromCrm` formula reads. */
export function formulaReads(entry: FieldMappingEntry): string[] {
  if (!entry.formula?.fromCrm) return [];
  try {
    return formulaInputFields(entry.formula.fromCrm);
  } catch {
    // A formula that does not parse fails its records with its own message; it adds nothing to read.
    return [];
  }
}

/** The CRM fields to ask a read for: every mapped field's top-level name (a dotted path asks for its relation). */
export function crmFieldsToRead(mapping: ObjectMapping): string[] {
  const own = mapping.fields.flatMap((entry) => [
    ...(entry.crm === undefined ? [] : [entry.crm]),
    ...formulaReads(entry),
  ]);
  // The matching key's CRM field too: an unlinked record read inbound is matched on it. A company mapping has no
  // e-mail key (`emailField` is '').
  const key = mapping.matchKey ? [mapping.matchKey.crm] : [];
  return [...new Set([mapping.emailField, ...key, ...own])].filter((name) => name !== '');
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
  entry: FieldMappingEntry<string>,
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
  if (entry.codec === 'domain') return normaliseDomain(translate(entry.valueMap?.fromCrm, value));
  if (entry.codec === 'email' || entry.local === 'email') return normaliseEmail(value) ?? null;
  return translate(entry.formula?.toCrm ? undefined : entry.valueMap?.fromCrm, value);
}

/** A value through a value map; a value the map does not name crosses unchanged. */
function translate(map: Readonly<Record<string, string>> | undefined, value: string | null): string | null {
  if (!map || value === null || !Object.hasOwn(map, value)) return value;
  return map[value];
}

/** A local value in the CRM's form, through the entry's value map and codec. */
export function encodeLocalValue(entry: FieldMappingEntry<string>, value: string | null): unknown {
  const mapped = entry.formula?.toCrm ? value : translate(entry.valueMap?.toCrm, value);
  if (entry.codec === 'primary_of_list') {
    return mapped === null ? [] : [{ value: mapped, primary: true, label: 'work' }];
  }
  return mapped;
}

/** A normalised local value, so '  x ' and 'x', '' and null compare equal. */
export function normaliseLocalValue(field: string, value: unknown): string | null {
  const text = toText(value);
  return field === 'email' ? (normaliseEmail(text) ?? null) : text;
}

/** A `fromCrm` formula's result in local form: through the entry's `domain` codec, else normalised as text. */
export function formulaResultAsLocal(entry: FieldMappingEntry<string>, result: string | null): string | null {
  return entry.codec === 'domain' ? normaliseDomain(result) : normaliseLocalValue(mappingKey(entry), result);
}

/** Every mapped field of a CRM record, in local form; `associated` as in `decodeCrmValue`. */
export function decodeCrmRecord(
  mapping: ObjectMapping,
  fields: Record<string, unknown>,
  associated: Record<string, unknown> = {},
): LocalValues {
  const values: LocalValues = {};
  for (const entry of mapping.fields) values[mappingKey(entry)] = decodeCrmValue(entry, fields, associated);
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
    const key = mappingKey(entry);
    if (entry.direction === 'from_crm' || entry.crm === undefined || !(key in values)) continue;
    payload[entry.crm] = encodeLocalValue(entry, values[key] ?? null);
  }
  return payload;
}
