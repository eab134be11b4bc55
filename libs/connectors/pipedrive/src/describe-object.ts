import type { CrmSession, FieldDescriptor, FieldType } from '@pm/integration-port';
import type { PipedriveHttpClient } from './client';
import { PIPEDRIVE_V1_PAGINATION } from './http-facts';
import { requirePipedriveObject, toRequestBody, type PipedriveObjectName } from './objects';
import { collectPipedrivePages } from './pages';

/** A field as `GET /v1/personFields` and `/v1/organizationFields` return it (the SDK's v1 `Field` model). */
interface PipedriveField {
  key: string;
  name: string;
  field_type: string;
  mandatory_flag?: boolean;
  edit_flag?: boolean;
  options?: Array<{ id: number | string; label: string }> | null;
}

const CUSTOM_FIELD_KEY = /^[0-9a-f]{40}$/;

/** Pipedrive field types (https://developers.pipedrive.com/docs/api/v1/PersonFields) as the port's types. */
const FIELD_TYPES: Readonly<Record<string, FieldType>> = {
  varchar: 'string',
  varchar_auto: 'string',
  varchar_options: 'string',
  text: 'text',
  double: 'number',
  monetary: 'number',
  int: 'number',
  date: 'date',
  daterange: 'date',
  time: 'string',
  timerange: 'string',
  enum: 'picklist',
  set: 'multipicklist',
  visible_to: 'picklist',
  phone: 'phone',
  org: 'reference',
  people: 'reference',
  user: 'reference',
  address: 'string',
  picture: 'other',
  status: 'picklist',
};

/** Where the standard field's meaning is narrower than its Pipedrive type. */
const STANDARD_TYPES: Readonly<Record<string, FieldType>> = {
  id: 'id',
  email: 'email',
  add_time: 'datetime',
  update_time: 'datetime',
};

/** Whether the connector can write the field (custom fields, the writable standard ones, email/phone/name parts). */
function writable(object: PipedriveObjectName, key: string): boolean {
  try {
    toRequestBody(object, { [key]: null });
    return true;
  } catch {
    return false;
  }
}

function describeField(object: PipedriveObjectName, field: PipedriveField): FieldDescriptor {
  const custom = CUSTOM_FIELD_KEY.test(field.key);
  const descriptor: FieldDescriptor = {
    name: field.key,
    label: field.name,
    type: STANDARD_TYPES[field.key] ?? FIELD_TYPES[field.field_type] ?? 'other',
    crmType: field.field_type,
    required: field.mandatory_flag === true,
    readOnly: !writable(object, field.key),
    custom,
  };
  if (field.options && field.options.length > 0) {
    descriptor.options = field.options.map((option) => ({ value: String(option.id), label: option.label }));
  }
  return descriptor;
}

/**
 * Activities: the standard API v2 fields, stated here because the sandbox serves no activity field metadata (real
 * accounts also have /v1/activityFields).
 */
const STATIC_FIELDS: Readonly<Record<'activities', PipedriveField[]>> = {
  activities: [
    { key: 'id', name: 'ID', field_type: 'int' },
    { key: 'subject', name: 'Subject', field_type: 'varchar', mandatory_flag: true },
    { key: 'type', name: 'Type', field_type: 'varchar' },
    { key: 'due_date', name: 'Due date', field_type: 'date' },
    { key: 'due_time', name: 'Due time', field_type: 'time' },
    { key: 'done', name: 'Done', field_type: 'status' },
    { key: 'note', name: 'Note', field_type: 'text' },
    { key: 'person_id', name: 'Contact person', field_type: 'people' },
    { key: 'org_id', name: 'Organization', field_type: 'org' },
    { key: 'owner_id', name: 'Assigned to user', field_type: 'user' },
    { key: 'add_time', name: 'Add time', field_type: 'date' },
    { key: 'update_time', name: 'Update time', field_type: 'date' },
  ],
};

/** Where each object's field metadata lives (API v1, paged by start/limit), custom fields included. */
const FIELD_ROUTES: Readonly<Record<'persons' | 'organizations', string>> = {
  persons: '/api/v1/personFields',
  organizations: '/api/v1/organizationFields',
};

/**
 * describeObject: persons from `GET {api_domain}/api/v1/personFields`, organizations from
 * `/api/v1/organizationFields`, custom fields (40-hex keys) included.
 */
export async function describePipedriveObject(
  http: PipedriveHttpClient,
  session: CrmSession,
  objectName: string,
): Promise<FieldDescriptor[]> {
  const object = requirePipedriveObject(objectName);
  if (object === 'activities') return STATIC_FIELDS[object].map((field) => describeField(object, field));
  const fields = await collectPipedrivePages<PipedriveField>(http, session, PIPEDRIVE_V1_PAGINATION, {
    method: 'GET',
    path: FIELD_ROUTES[object],
    query: { start: 0, limit: PIPEDRIVE_V1_PAGINATION.maxPageSize },
  });
  return fields.map((field) => describeField(object, field));
}
