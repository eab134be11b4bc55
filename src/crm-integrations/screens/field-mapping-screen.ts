import { Injectable } from '@nestjs/common';
import type { CrmConnection } from '@pm/domain';
import {
  IntegrationPortRegistry,
  LOCAL_CONTACT_FIELDS,
  type FieldMappingEntry,
  type MappingDirection,
} from '@pm/integration-port';

/** One row of the Field mapping page: a PenguinMails field beside a CRM field, a direction, how values cross. */
export interface MappingRowView {
  local: string;
  crm: string | null;
  direction: MappingDirection;
  /** CRM value → PenguinMails value (picklists). */
  valueMap?: Record<string, string>;
  /** An expression computing the value (where the mapping service supports formulas). */
  formula?: string;
  /** Where the value is read from an associated record ("companies.name"). */
  associated?: string;
}

export interface FieldMappingView {
  /** Whether rows can be changed here (false: the connector's defaults, shown as they sync). */
  editable: boolean;
  /** Why not, in words. */
  note: string | null;
  localFields: string[];
  objects: {
    object: string;
    /** The CRM's fields for the object (discovered from the CRM, or those the mapping names). */
    crmFields: { name: string; label: string; type: string }[];
    rows: MappingRowView[];
  }[];
}

export interface MappingPreview {
  /** The sample contact as the CRM would receive it, per CRM field. */
  crm: Record<string, unknown>;
  /** Errors by row index (a formula that does not evaluate, an unknown field). */
  errors: Record<number, string>;
}

/**
 * What the Field mapping page needs from the mapping service. The screens ship with `DefaultFieldMappingSource`
 * (the connector's defaults, read-only); the field-mapping API's service implements this to make the page
 * editable (bind it to `FIELD_MAPPING_SCREEN_SOURCE`).
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
  ): Promise<{ errors: Record<number, string> }>;
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

function rowOf(entry: FieldMappingEntry): MappingRowView {
  return {
    local: entry.local ?? '',
    crm: entry.crm ?? null,
    direction: entry.direction,
    ...(entry.associated ? { associated: `${entry.associated.object}.${entry.associated.field}` } : {}),
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
            ...mapping.fields.map(rowOf),
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
