import { v1Time, type PipedriveField } from './pipedrive-records';

/** Person field metadata as GET /v1/personFields returns it (the SDK's v1 `Field` model). */
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
