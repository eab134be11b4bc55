import {
  customFieldName,
  type FieldMappingEntry,
  type LocalCustomField,
  type MappingDirection,
  type ValueCodec,
} from './field-mapping';

/**
 * Company mappings as data, shaped like the contacts' `ObjectMapping` so the same machinery (stored tenant
 * mappings, discovery, validation, formulas) serves them: which PenguinMails company field a CRM company field
 * holds, which way it flows, and how a company is matched (its domain, else its normalised name). Each connector
 * declares its defaults (`ConnectorCapabilities.defaultCompanyMappings`); the engine knows no CRM field name.
 */

/** A PenguinMails company's standard fields a mapping can sync. */
export const LOCAL_COMPANY_FIELDS = ['name', 'domain'] as const;
export type StandardCompanyField = (typeof LOCAL_COMPANY_FIELDS)[number];

/** A PenguinMails company field a mapping can name: a standard field or one of its `customFields.<name>`. */
export type LocalCompanyField = StandardCompanyField | LocalCustomField;

/** Whether `field` is a company field a mapping may name (custom fields as for contacts). */
export function isLocalCompanyField(field: string): field is LocalCompanyField {
  return (
    (LOCAL_COMPANY_FIELDS as readonly string[]).includes(field) ||
    (customFieldName(field) !== undefined && /^customFields\.[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(field))
  );
}

/** The codecs a company entry may use. */
export const COMPANY_VALUE_CODECS = ['text', 'domain'] as const satisfies readonly ValueCodec[];

/**
 * How a company value crosses. `text`: trimmed, empty is null. `domain`: a host name, lower-cased, from a bare
 * domain or a web address (`https://www.Acme.com/about` → `acme.com`); written as the bare domain.
 */
export type CompanyValueCodec = (typeof COMPANY_VALUE_CODECS)[number];

/**
 * One company field's mapping: the contacts' `FieldMappingEntry` narrowed to what companies use (value maps and
 * JSONata formulas, but no associated record), so the stored-mapping API, its validation and its preview treat
 * both alike. As for contacts, an entry computed by a `toCrm` formula has no local field (it is keyed
 * `=<crm field>`), and one computed by a `fromCrm` formula may have no CRM field; every other entry has both.
 */
export interface CompanyFieldMappingEntry extends Omit<FieldMappingEntry<LocalCompanyField>, 'associated'> {
  direction: MappingDirection;
  codec: CompanyValueCodec;
}

/** How one CRM company object's records map onto PenguinMails companies. */
export interface CompanyObjectMapping {
  /** The CRM's own object name ('Account', 'companies', 'organizations'). */
  object: string;
  fields: readonly CompanyFieldMappingEntry[];
  /**
   * The contact objects whose records can be associated with a record of this object through
   * `IntegrationPort.associateRecords` (a Salesforce Contact's Account; a Lead has none).
   */
  associates: readonly string[];
}

/** A connector's default company mapping per CRM object name (only the objects it can sync as companies). */
export type DefaultCompanyMappings = Readonly<Record<string, CompanyObjectMapping>>;

/** A CRM value as a bare, lower-cased domain: scheme, `www.`, port and path dropped; null when there is none. */
export function normaliseDomain(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  let text = String(value).trim().toLowerCase();
  if (text === '') return null;
  text = text.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  text = text
    .split(/[/?#]/, 1)[0]
    .replace(/:\d+$/, '')
    .replace(/^www\./, '')
    .replace(/\.$/, '');
  return text === '' ? null : text;
}

/** A company name as compared for matching: trimmed, inner spaces collapsed, lower-cased; null when empty. */
export function normaliseCompanyName(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = String(value).trim().replace(/\s+/g, ' ').toLowerCase();
  return text === '' ? null : text;
}

/** The key a company is unique by within a tenant: its domain, else its normalised name. */
export function companyKey(company: { domain?: string | null; name?: string | null }): string | null {
  const domain = normaliseDomain(company.domain);
  if (domain !== null) return `domain:${domain}`;
  const name = normaliseCompanyName(company.name);
  return name === null ? null : `name:${name}`;
}
