import { normaliseEmail, toUtcIso } from '@pm/connector-kit';
import { CrmError, CrmErrorCode, type CrmRecord, type ObjectCapability } from '@pm/integration-port';
import { PIPEDRIVE_PROVIDER } from './http-facts';

/**
 * Pipedrive's three synced objects and the translation between their API v2 shapes
 * (https://developers.pipedrive.com/docs/api/v1/Persons, API v2 section; the SDK's v2 Person, AddPersonRequest …)
 * and the flat fields the product maps. Persons expose their primary e-mail and phone as plain `email` and `phone`
 * fields, and accept `first_name`/`last_name` on writes (API v2 takes only `name`; Pipedrive derives the parts).
 * Custom fields appear under their 40-hex keys, as Pipedrive names them.
 */

export type PipedriveObjectName = 'persons' | 'organizations' | 'activities';

export const PIPEDRIVE_OBJECTS: readonly ObjectCapability[] = [
  {
    name: 'persons',
    label: 'Persons',
    role: 'contact',
    emailField: 'email',
    // API v2 lists leave deleted records out; deletions arrive through webhooks (`meta.action: delete`).
    reportsDeletions: false,
    // No server-side upsert: upsertBatch searches by e-mail before creating (see upsert-batch.ts).
    upsertByEmail: false,
    // API v2 writes `name` only, and derives the parts from it: a change of one part is sent with the other.
    writtenTogether: [['first_name', 'last_name']],
  },
  {
    name: 'organizations',
    label: 'Organizations',
    role: 'company',
    reportsDeletions: false,
    upsertByEmail: false,
  },
  {
    name: 'activities',
    label: 'Activities',
    role: 'activity',
    reportsDeletions: false,
    upsertByEmail: false,
  },
];

export interface PipedriveContactItem {
  value: string;
  primary?: boolean;
  label?: string;
}

/** A record as API v2 returns it (persons, organizations and activities share these). */
export interface PipedriveApiRecord {
  id: number;
  add_time?: string;
  update_time: string;
  custom_fields?: Record<string, unknown> | null;
  [field: string]: unknown;
}

export function requirePipedriveObject(object: string): PipedriveObjectName {
  if (object === 'persons' || object === 'organizations' || object === 'activities') return object;
  throw new CrmError(
    CrmErrorCode.VALIDATION_FAILED,
    `Pipedrive object "${object}" is not supported; use persons, organizations or activities`,
    { provider: PIPEDRIVE_PROVIDER, field: 'object' },
  );
}

const CUSTOM_FIELD_KEY = /^[0-9a-f]{40}$/;
const SYSTEM_FIELDS = new Set(['id', 'add_time', 'update_time', 'is_deleted', 'creator_user_id']);

const WRITABLE: Readonly<Record<PipedriveObjectName, ReadonlySet<string>>> = {
  persons: new Set([
    'name',
    'owner_id',
    'org_id',
    'emails',
    'phones',
    'label_ids',
    'visible_to',
    'job_title',
    'notes',
    'birthday',
    'postal_address',
    'im',
    'marketing_status',
  ]),
  organizations: new Set([
    'name',
    'owner_id',
    'website',
    'industry',
    'employee_count',
    'label_ids',
    'visible_to',
  ]),
  activities: new Set([
    'subject',
    'type',
    'owner_id',
    'person_id',
    'org_id',
    'deal_id',
    'due_date',
    'due_time',
    'duration',
    'busy',
    'done',
    'note',
    'public_description',
    'priority',
    'participants',
  ]),
};

function primaryValue(items: unknown): string | null {
  if (!Array.isArray(items) || items.length === 0) return null;
  const list = items as PipedriveContactItem[];
  return (list.find((item) => item.primary) ?? list[0]).value ?? null;
}

/** The API v2 record as the port's CrmRecord: flat fields, custom fields by key, links as associations. */
export function toCrmRecord(
  object: PipedriveObjectName,
  api: PipedriveApiRecord,
  selected?: readonly string[],
): CrmRecord {
  const { id, add_time: addTime, update_time: updateTime, custom_fields: custom, ...rest } = api;
  const fields: Record<string, unknown> = { ...rest, ...(custom ?? {}) };
  const associations: Record<string, string[]> = {};
  if (object === 'persons') {
    fields.email = primaryValue(api.emails);
    fields.phone = primaryValue(api.phones);
  }
  if (object === 'organizations') {
    const address = api.address as { value?: string } | null | undefined;
    fields.address = address?.value ?? null;
  }
  if (typeof api.org_id === 'number') associations.organizations = [String(api.org_id)];
  if (object === 'activities' && typeof api.person_id === 'number')
    associations.persons = [String(api.person_id)];
  const record: CrmRecord = {
    id: String(id),
    object,
    modifiedAt: toUtcIso(updateTime),
    fields:
      selected === undefined
        ? fields
        : Object.fromEntries(selected.filter((name) => name in fields).map((name) => [name, fields[name]])),
  };
  if (addTime) record.createdAt = toUtcIso(addTime);
  if (Object.keys(associations).length > 0) record.associations = associations;
  return record;
}

/** A field the connector refuses before calling Pipedrive (unknown or read-only). */
export class FieldRejection extends CrmError {
  constructor(field: string, message: string) {
    super(CrmErrorCode.VALIDATION_FAILED, message, { provider: PIPEDRIVE_PROVIDER, field });
  }
}

/** Whether building an update body needs the record as Pipedrive holds it (to keep other e-mails, or a name part). */
export function updateNeedsCurrent(object: PipedriveObjectName, fields: Record<string, unknown>): boolean {
  if (object !== 'persons') return false;
  const onlyOneNamePart = !('name' in fields) && 'first_name' in fields !== 'last_name' in fields;
  return 'email' in fields || 'phone' in fields || onlyOneNamePart;
}

function replacePrimary(current: unknown, value: unknown, field: string): PipedriveContactItem[] {
  const others = (Array.isArray(current) ? (current as PipedriveContactItem[]) : []).filter(
    (item) => !item.primary,
  );
  if (value === null || value === '') return others.map((item, index) => ({ ...item, primary: index === 0 }));
  if (typeof value !== 'string') throw new FieldRejection(field, `${field} must be a string`);
  const label = (Array.isArray(current) ? (current as PipedriveContactItem[]) : []).find(
    (i) => i.primary,
  )?.label;
  return [
    { value, primary: true, label: label ?? 'work' },
    ...others
      // The same address (or number) in another case is the one being made primary.
      .filter((item) => normaliseEmail(item.value) !== normaliseEmail(value))
      .map((i) => ({ ...i, primary: false })),
  ];
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/**
 * The API v2 request body for a create (`current` absent) or an update of `fields`. Throws FieldRejection for a
 * field Pipedrive does not have or does not let anyone write.
 */
export function toRequestBody(
  object: PipedriveObjectName,
  fields: Record<string, unknown>,
  current?: PipedriveApiRecord,
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const custom: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(fields)) {
    if (CUSTOM_FIELD_KEY.test(field)) custom[field] = value;
    else if (WRITABLE[object].has(field)) body[field] = value;
    else if (object === 'persons' && field === 'email')
      body.emails = replacePrimary(current?.emails, value, field);
    else if (object === 'persons' && field === 'phone')
      body.phones = replacePrimary(current?.phones, value, field);
    else if (object === 'persons' && (field === 'first_name' || field === 'last_name')) continue;
    else if (object === 'organizations' && field === 'address')
      body.address = value === null ? null : { value: String(value) };
    else if (SYSTEM_FIELDS.has(field))
      throw new FieldRejection(field, `Pipedrive field "${field}" is read-only`);
    else throw new FieldRejection(field, `Pipedrive ${object} have no field "${field}"`);
  }
  if (object === 'persons' && !('name' in fields) && ('first_name' in fields || 'last_name' in fields)) {
    // API v2 writes `name` only; Pipedrive splits it back into first_name (first word) and last_name (the rest).
    const first = 'first_name' in fields ? text(fields.first_name) : text(current?.first_name);
    const last = 'last_name' in fields ? text(fields.last_name) : text(current?.last_name);
    const name = `${first} ${last}`.trim();
    if (name !== '') body.name = name;
  }
  if (Object.keys(custom).length > 0) body.custom_fields = custom;
  return body;
}

/** The connector's name for a field a Pipedrive validation message names (`emails` → `email`). */
export function connectorFieldName(
  object: PipedriveObjectName,
  apiField: string | undefined,
): string | undefined {
  if (apiField === undefined) return undefined;
  if (apiField.startsWith('custom_fields.')) return apiField.slice('custom_fields.'.length);
  if (object === 'persons' && apiField.startsWith('emails')) return 'email';
  if (object === 'persons' && apiField.startsWith('phones')) return 'phone';
  return apiField;
}

/** Whether a person carries `email` (compared case-insensitively, as Pipedrive's search does). */
export function personHasEmail(api: PipedriveApiRecord, email: string): boolean {
  const wanted = normaliseEmail(email);
  return (
    wanted !== undefined &&
    Array.isArray(api.emails) &&
    (api.emails as PipedriveContactItem[]).some((item) => normaliseEmail(item.value) === wanted)
  );
}
