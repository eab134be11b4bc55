import { Injectable } from '@nestjs/common';
import type { CrmConnection } from '@pm/domain';
import {
  IntegrationPortRegistry,
  LOCAL_CONTACT_FIELDS,
  type FieldMappingEntry,
  type MappingDirection,
  type ValueCodec,
} from '@pm/integration-port';

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
    /** The CRM field records are matched on (the contact's e-mail); not a row. */
    matchField?: string;
    /** The CRM's fields for the object (discovered from the CRM, or those the mapping names). */
    crmFields: CrmFieldView[];
    rows: MappingRowView[];
  }[];
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
 * What the Field mapping page needs from the mapping service. The screens ship with `DefaultFieldMappingSource`
 * (the connector's defaults, read-only); the plugin binds `FIELD_MAPPING_SCREEN_SOURCE` to the field-mapping
 * service's adapter (`ServiceFieldMappingScreenSource`), which makes the page editable.
 */
export interface FieldMappingScreenSource {
  view(connection: CrmConnection): Promise<FieldMappingView>;
  preview(
    connection: CrmConnection,
    object: string,
    rows: MappingRowView[],
    sample: Record<string, string>,
  ): Promise<MappingPreview>;
  save(
    connection: CrmConnection,
    object: string,
    rows: MappingRowView[],
    actor: string,
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

/** The connector's default mapping per object: what syncs today, shown read-only with a preview. */
@Injectable()
export class DefaultFieldMappingSource implements FieldMappingScreenSource {
  constructor(private readonly registry: IntegrationPortRegistry) {}

  async view(connection: CrmConnection): Promise<FieldMappingView> {
    const capabilities = this.registry.has(connection.provider)
      ? this.registry.get(connection.provider).capabilities()
      : null;
    const mappings = capabilities?.defaultMappings ?? {};
    const chosen = connection.settings.objects.filter((object) => mappings[object]);
    return {
      editable: false,
      note: 'These are the default mappings this connection syncs with; editing them comes with the field-mapping service.',
      localFields: [...LOCAL_CONTACT_FIELDS],
      objects: (chosen.length > 0 ? chosen : Object.keys(mappings)).map((object) => {
        const mapping = mappings[object];
        const named = [mapping.emailField, ...mapping.fields.map((entry) => entry.crm)].filter(
          (name): name is string => !!name,
        );
        return {
          object,
          crmFields: [...new Set(named)].map((name) => ({ name, label: name, type: 'text' })),
          rows: [
            // The e-mail matches records on both sides: always mapped, listed first.
            ...(mapping.fields.some((entry) => entry.local === 'email')
              ? []
              : [{ local: 'email', crm: mapping.emailField, direction: 'both' as const }]),
            ...mapping.fields.map(mappingRowOf),
          ],
        };
      }),
    };
  }

  async preview(
    connection: CrmConnection,
    object: string,
    rows: MappingRowView[],
    sample: Record<string, string>,
  ): Promise<MappingPreview> {
    const crm: Record<string, unknown> = {};
    const errors: Record<number, string> = {};
    rows.forEach((row, index) => {
      if (row.direction === 'from_crm' || !row.crm) return;
      if (!(LOCAL_CONTACT_FIELDS as readonly string[]).includes(row.local)) {
        errors[index] = `PenguinMails has no field "${row.local}"`;
        return;
      }
      const value = (sample[row.local] ?? '').trim();
      crm[row.crm] = row.local === 'email' ? value.toLowerCase() : value === '' ? null : value;
    });
    return { crm, errors };
  }

  async save(): Promise<{ errors: Record<number, string> }> {
    return { errors: { [-1]: 'Field mappings cannot be edited yet: the defaults apply.' } };
  }
}
