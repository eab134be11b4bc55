import type { CrmConnection } from '@pm/domain';
import type { FieldMappingEntry, MappingDirection, ValueCodec } from '@pm/integration-port';

/**
 * One row of the Field mapping page: one entry of the object's mapping (row N is `fields[N]` of the mapping the API
 * saves), a PenguinMails field beside a CRM field, a direction, and how values cross.
 */
export interface MappingRowView {
  /** A PenguinMails field (standard, or `customFields.<name>`); '' for a CRM value only a toCrm formula computes. */
  local: string;
  crm: string | null;
  direction: MappingDirection;
  /** Value maps per direction: PenguinMails value → CRM value (toCrm) and back (fromCrm), e.g. picklists. */
  valueMap?: { toCrm?: Record<string, string>; fromCrm?: Record<string, string> };
  /** JSONata formulas per direction: over the contact (toCrm) or over the CRM record (fromCrm). */
  formula?: { toCrm?: string; fromCrm?: string };
  /** Where the value is read from an associated record ("companies.name"). */
  associated?: string;
  codec?: ValueCodec;
}

/** A field of the CRM object, as discovered (describeObject), custom fields included. */
export interface CrmFieldView {
  name: string;
  label: string;
  type: string;
  custom?: boolean;
  required?: boolean;
  readOnly?: boolean;
}

export interface FieldMappingView {
  /** Whether rows can be changed here (false: the connector's defaults, shown as they sync). */
  editable: boolean;
  /** Why not, or what to know, in words. */
  note: string | null;
  /** PenguinMails fields a row may name: the standard ones and the custom fields already mapped. */
  localFields: string[];
  objects: {
    object: string;
    /** What the object's records are in PenguinMails: contacts, or companies (Account, companies, organizations). */
    subject: 'contact' | 'company';
    /** A company object's PenguinMails fields (name, domain, customFields.<name>); contacts use `localFields`. */
    localFields?: string[];
    /** The matching key's CRM field (the connector's e-mail field by default); not a row. Absent for companies. */
    matchField?: string;
    /** The matching key's PenguinMails field: `email` (the default) or `customFields.<name>`. */
    matchLocalField?: string;
    /** The CRM's fields for the object (discovered from the CRM, or those the mapping names). */
    crmFields: CrmFieldView[];
    rows: MappingRowView[];
  }[];
}

/** The matching key as the page sends it; a side left out stays as saved. */
export interface MatchingKeyView {
  matchField?: string;
  matchLocalField?: string;
}

export interface MappingPreview {
  /** The sample contact as the CRM would receive it, per CRM field. */
  crm: Record<string, unknown>;
  /** Per row: the value the CRM would receive, or why its formula failed. */
  rows?: Record<number, { value: unknown } | { error: string }>;
  /** Validation problems by row index (-1: the mapping as a whole), as saving would report them. */
  errors: Record<number, string>;
}

/**
 * What the Field mapping page needs from the mapping service: the plugin binds `FIELD_MAPPING_SCREEN_SOURCE` to the
 * field-mapping service's adapter (`ServiceFieldMappingScreenSource`), so the page edits what the API edits.
 */
export interface FieldMappingScreenSource {
  view(connection: CrmConnection): Promise<FieldMappingView>;
  preview(
    connection: CrmConnection,
    object: string,
    rows: MappingRowView[],
    sample: Record<string, string>,
    key?: MatchingKeyView,
  ): Promise<MappingPreview>;
  save(
    connection: CrmConnection,
    object: string,
    rows: MappingRowView[],
    actor: string,
    key?: MatchingKeyView,
  ): Promise<{ errors: Record<number, string>; version?: number }>;
}

export const FIELD_MAPPING_SCREEN_SOURCE = Symbol('FIELD_MAPPING_SCREEN_SOURCE');

/** A PenguinMails contact to preview a mapping on. */
export const SAMPLE_CONTACT: Record<string, string> = {
  email: 'Ada.Lovelace@Example.com',
  firstName: 'Ada',
  lastName: 'Lovelace',
  company: 'Analytical Engines Ltd',
  title: 'Mathematician',
  phone: '+44 20 7946 0000',
  lifecycleStage: 'customer',
  leadStatus: 'open',
};

/** A PenguinMails company to preview a company object's mapping on. */
export const SAMPLE_COMPANY: Record<string, string> = {
  name: 'Analytical Engines Ltd',
  domain: 'analytical-engines.example',
};

/** A mapping entry as a row of the page. */
export function mappingRowOf(entry: FieldMappingEntry): MappingRowView {
  return {
    local: entry.local ?? '',
    crm: entry.crm ?? null,
    direction: entry.direction,
    ...(entry.associated ? { associated: `${entry.associated.object}.${entry.associated.field}` } : {}),
    ...(entry.codec ? { codec: entry.codec } : {}),
    ...(entry.valueMap ? { valueMap: { ...entry.valueMap } } : {}),
    ...(entry.formula ? { formula: { ...entry.formula } } : {}),
  };
}
