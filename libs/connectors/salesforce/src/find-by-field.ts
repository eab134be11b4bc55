import { CrmError, CrmErrorCode, type CrmRecord, type FindByFieldRequest } from '@pm/integration-port';
import type { CatalogField, FieldCatalog } from './describe-object';
import { objectSpec, selectFields } from './objects';
import { queryAllRows } from './query';
import { toCrmRecord } from './records';
import type { SessionConnection } from './session-connection';
import { soqlInLists, soqlName, soqlString } from './soql';

/** Values per SOQL `IN (…)`, as for e-mails; the rate budget charges one query per this many. */
export const VALUES_PER_QUERY = 100;
/** Characters of one URL-encoded `IN (…)` list: the whole query stays far inside the 16 KB URL limit. */
const IN_LIST_CHARS = 10_000;

const NUMBER_TYPES = new Set(['double', 'int', 'long', 'currency', 'percent']);
// A text area that describe says is filterable (a short one, an address street) takes IN like any text.
const TEXT_TYPES = new Set([
  'string',
  'email',
  'phone',
  'url',
  'picklist',
  'combobox',
  'encryptedstring',
  'textarea',
]);
const ID_TYPES = new Set(['id', 'reference']);
const SALESFORCE_ID = /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/;

function refuse(message: string, field: string): CrmError {
  return new CrmError(CrmErrorCode.VALIDATION_FAILED, message, { provider: 'salesforce', field });
}

/** The value as a SOQL literal of the field's type; undefined where no record can hold it (`abc` in a number). */
function literalFor(field: CatalogField, value: string): string | undefined {
  if (TEXT_TYPES.has(field.type)) return soqlString(value);
  if (ID_TYPES.has(field.type)) return SALESFORCE_ID.test(value) ? soqlString(value) : undefined;
  if (NUMBER_TYPES.has(field.type)) {
    const number = Number(value);
    return value.trim() !== '' && Number.isFinite(number) ? String(number) : undefined;
  }
  if (field.type === 'boolean') return value === 'true' || value === 'false' ? value : undefined;
  return undefined;
}

/**
 * Whether a row's value is one of the wanted ones by the port's rule: exactly, but for e-mail fields without regard
 * to case. SOQL itself compares all text case-insensitively, so its wider answer is narrowed here.
 */
function matcher(field: CatalogField, values: readonly string[]): (stored: unknown) => boolean {
  if (NUMBER_TYPES.has(field.type)) {
    const wanted = new Set(values.map(Number));
    return (stored) => typeof stored === 'number' && wanted.has(stored);
  }
  if (ID_TYPES.has(field.type)) {
    // The 15- and 18-character forms of one id are the same record.
    const wanted = new Set(values.map((value) => value.slice(0, 15)));
    return (stored) => typeof stored === 'string' && wanted.has(stored.slice(0, 15));
  }
  const ignoreCase = field.type === 'email';
  const comparable = (value: string) => (ignoreCase ? value.toLowerCase() : value);
  const wanted = new Set(values.map(comparable));
  return (stored) =>
    (typeof stored === 'string' || typeof stored === 'boolean') && wanted.has(comparable(String(stored)));
}

/**
 * findByField: `SELECT … FROM <object> WHERE <field> IN (…)`, values escaped as literals of the field's type (from
 * the org's describe, which the catalog keeps), grouped so each query's URL stays short, every page followed. A
 * field Salesforce cannot filter on (a long text area) or that the object does not have is refused up front with
 * VALIDATION_FAILED naming it, before any query; a value no record of that type can hold is not sent.
 */
export async function findByField(
  connection: SessionConnection,
  catalog: FieldCatalog,
  request: FindByFieldRequest,
): Promise<CrmRecord[]> {
  const spec = objectSpec(request.object);
  if (spec === undefined) {
    throw refuse(`Salesforce ${request.object} is not an object this connector syncs`, 'object');
  }
  const object = spec.capability.name;
  const field = await catalog.field(connection, object, request.field);
  if (field === undefined) throw refuse(`Salesforce ${object} has no field ${request.field}`, request.field);
  if (!field.filterable) {
    throw refuse(
      `Salesforce cannot filter ${object} on ${field.name} (a ${field.type} field), so records cannot be looked up by it`,
      request.field,
    );
  }
  if (
    !TEXT_TYPES.has(field.type) &&
    !ID_TYPES.has(field.type) &&
    !NUMBER_TYPES.has(field.type) &&
    field.type !== 'boolean'
  ) {
    throw refuse(
      `Salesforce ${object} records cannot be looked up by ${field.name} (a ${field.type} field)`,
      request.field,
    );
  }
  const literals = [...new Set(request.values.flatMap((value) => literalFor(field, value) ?? []))];
  const selected = selectFields(spec, [field.name, ...(request.fields ?? spec.defaultFields)]);
  const matches = matcher(field, request.values);
  const found = new Map<string, CrmRecord>();
  for (const list of soqlInLists(literals, VALUES_PER_QUERY, IN_LIST_CHARS)) {
    const soql =
      `SELECT ${selected.map(soqlName).join(', ')} FROM ${object}` +
      ` WHERE ${soqlName(field.name)} IN (${list.join(', ')}) ORDER BY CreatedDate ASC, Id ASC`;
    for (const row of await queryAllRows(connection, soql)) {
      if (matches(row[field.name])) {
        const record = toCrmRecord(object, row);
        found.set(record.id, record);
      }
    }
  }
  return [...found.values()];
}
