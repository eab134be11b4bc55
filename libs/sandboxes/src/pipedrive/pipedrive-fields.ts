import { createHash } from 'node:crypto';
import { v1Time, type PipedriveField } from './pipedrive-records';

/** Field metadata as GET /v1/personFields and /v1/organizationFields return it (the SDK's v1 `Field` model). */
export function fieldDefaults(
  nowMs: number,
): Omit<PipedriveField, 'id' | 'key' | 'name' | 'order_nr' | 'field_type'> {
  return {
    add_time: v1Time(nowMs),
    update_time: v1Time(nowMs),
    last_updated_by_user_id: null,
    created_by_user_id: null,
    active_flag: true,
    edit_flag: false,
    index_visible_flag: true,
    details_visible_flag: true,
    add_visible_flag: true,
    important_flag: false,
    bulk_edit_allowed: true,
    searchable_flag: false,
    filtering_allowed: true,
    sortable_flag: true,
    mandatory_flag: false,
    options: null,
  };
}

/** Pipedrive's built-in person fields (ids 9001…). Custom fields are added by the sandbox with 40-hex keys. */
export function standardPersonFields(nowMs: number): PipedriveField[] {
  const standard: Array<[string, string, string, Partial<PipedriveField>]> = [
    ['id', 'ID', 'int', { edit_flag: false, add_visible_flag: false, bulk_edit_allowed: false }],
    ['name', 'Name', 'varchar', { mandatory_flag: true, important_flag: true }],
    ['first_name', 'First name', 'varchar', {}],
    ['last_name', 'Last name', 'varchar', {}],
    ['email', 'Email', 'varchar', { important_flag: true }],
    ['phone', 'Phone', 'phone', {}],
    ['org_id', 'Organization', 'org', {}],
    ['owner_id', 'Owner', 'user', {}],
    ['job_title', 'Job title', 'varchar', {}],
    [
      'label_ids',
      'Labels',
      'set',
      {
        options: [
          { id: 1, label: 'Customer' },
          { id: 2, label: 'Hot lead' },
          { id: 3, label: 'Cold lead' },
        ],
      },
    ],
    ['visible_to', 'Visible to', 'visible_to', {}],
    [
      'add_time',
      'Person created',
      'date',
      { edit_flag: false, add_visible_flag: false, bulk_edit_allowed: false },
    ],
    [
      'update_time',
      'Update time',
      'date',
      { edit_flag: false, add_visible_flag: false, bulk_edit_allowed: false },
    ],
  ];
  return standard.map(([key, name, fieldType, extra], index) => ({
    ...fieldDefaults(nowMs),
    id: 9000 + index + 1,
    key,
    name,
    order_nr: index + 1,
    field_type: fieldType,
    ...extra,
  }));
}

/** Pipedrive's built-in organization fields (ids 9501…), as GET /v1/organizationFields lists them. */
export function standardOrganizationFields(nowMs: number): PipedriveField[] {
  const readOnly = { edit_flag: false, add_visible_flag: false, bulk_edit_allowed: false };
  const standard: Array<[string, string, string, Partial<PipedriveField>]> = [
    ['id', 'ID', 'int', readOnly],
    ['name', 'Name', 'varchar', { mandatory_flag: true, important_flag: true }],
    ['owner_id', 'Owner', 'user', {}],
    ['address', 'Address', 'address', {}],
    ['website', 'Website', 'varchar', {}],
    ['industry', 'Industry', 'varchar', {}],
    ['employee_count', 'Number of employees', 'int', {}],
    [
      'label_ids',
      'Labels',
      'set',
      {
        options: [
          { id: 5, label: 'Customer' },
          { id: 6, label: 'Partner' },
        ],
      },
    ],
    ['visible_to', 'Visible to', 'visible_to', {}],
    ['add_time', 'Organization created', 'date', readOnly],
    ['update_time', 'Update time', 'date', readOnly],
  ];
  return standard.map(([key, name, fieldType, extra], index) => ({
    ...fieldDefaults(nowMs),
    id: 9500 + index + 1,
    key,
    name,
    order_nr: index + 1,
    field_type: fieldType,
    ...extra,
  }));
}

const CUSTOM_FIELD_KEY = /^[0-9a-f]{40}$/;

/**
 * One object's fields (persons' or organizations'): the built-in ones, then the custom ones an admin adds, each with
 * a 40-hex key as Pipedrive gives them. Field ids come from one sequence shared by every object of the account.
 */
export class PipedriveFieldCatalog {
  private readonly fields: PipedriveField[];

  constructor(
    private readonly entity: 'person' | 'organization',
    private readonly account: { companyId: number; nextFieldId(): number; nowMs(): number },
    standard: PipedriveField[],
  ) {
    this.fields = [...standard];
  }

  /** Adds a custom field (40-hex key derived from company and field id, so keys never collide). */
  add(
    name: string,
    fieldType: string,
    options: string[] = [],
    /** Made required in Pipedrive's data-field settings (`mandatory_flag`). */
    flags: { mandatory?: boolean } = {},
  ): PipedriveField {
    const id = this.account.nextFieldId();
    const field: PipedriveField = {
      ...fieldDefaults(this.account.nowMs()),
      id,
      key: createHash('sha1').update(`${this.account.companyId}:${this.entity}:${id}`).digest('hex'),
      name,
      order_nr: this.fields.length + 1,
      field_type: fieldType,
      edit_flag: true,
      bulk_edit_allowed: true,
      ...(flags.mandatory ? { mandatory_flag: true } : {}),
      options: options.length ? options.map((label, index) => ({ id: (id + 1) * 10 + index, label })) : null,
    };
    this.fields.push(field);
    return field;
  }

  list(): PipedriveField[] {
    return [...this.fields];
  }

  /** The key of a field by its display name. */
  key(name: string): string {
    const field = this.fields.find((candidate) => candidate.name === name);
    if (!field) throw new Error(`pipedrive sandbox: no ${this.entity} field named ${name}`);
    return field.key;
  }

  /** The custom fields' keys, in field order. */
  customKeys(): string[] {
    return this.fields.filter((field) => CUSTOM_FIELD_KEY.test(field.key)).map((field) => field.key);
  }

  /** One page of GET /v1/<entity>Fields (`start`/`limit`, at most 500). */
  page(query: { start?: unknown; limit?: unknown }): Record<string, unknown> {
    const start = Math.max(0, Number(query.start ?? 0) || 0);
    const limit = Math.min(500, Math.max(1, Number(query.limit ?? 100) || 100));
    const more = start + limit < this.fields.length;
    return {
      success: true,
      data: this.fields.slice(start, start + limit),
      additional_data: {
        start,
        limit,
        more_items_in_collection: more,
        ...(more ? { next_start: start + limit } : {}),
      },
    };
  }
}
