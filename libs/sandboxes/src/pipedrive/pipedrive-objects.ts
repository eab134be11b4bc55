/**
 * The three API v2 object types (persons, organizations, activities): request schemas, validation and the
 * mapping between request bodies and stored records. Bodies follow the pipedrive SDK's v2 AddPersonRequest,
 * AddOrganizationRequest and AddActivityRequest models (https://developers.pipedrive.com/docs/api/v1/Persons, API v2).
 */
import { z } from 'zod';
import type { OAuthAccount, RecordStore, SortKey } from '../kit';
import { ValidationError, parseOrThrow } from './pipedrive-errors';
import {
  activityToApi,
  organizationToApi,
  personToApi,
  splitName,
  v2Time,
  type ActivityRecord,
  type OrganizationRecord,
  type PersonRecord,
  type PipedriveEmail,
  type PipedriveObjectName,
} from './pipedrive-records';

export type ApiRecord = Record<string, unknown>;
export type StoredRecord = PersonRecord | OrganizationRecord | ActivityRecord;
export type StoredRecordOf<K extends PipedriveObjectName> = K extends 'person'
  ? PersonRecord
  : K extends 'organization'
    ? OrganizationRecord
    : ActivityRecord;

export const contactItemSchema = z.object({
  value: z.string(),
  primary: z.boolean().optional(),
  label: z.string().optional(),
});
export const customFieldsSchema = z.record(z.string(), z.unknown());
export const idSchema = z.number().int().positive();

export const personBodySchema = z.looseObject({
  name: z.string().min(1).optional(),
  owner_id: idSchema.optional(),
  org_id: idSchema.nullable().optional(),
  emails: z.array(contactItemSchema).optional(),
  phones: z.array(contactItemSchema).optional(),
  label_ids: z.array(z.number().int()).optional(),
  visible_to: z.number().int().optional(),
  job_title: z.string().nullable().optional(),
  notes: z.string().nullable().optional(),
  // Accepted where the company uses Campaigns (this sandbox's accounts do).
  marketing_status: z.enum(['no_consent', 'unsubscribed', 'subscribed', 'archived']).optional(),
  add_time: z.string().optional(),
  custom_fields: customFieldsSchema.optional(),
});

export const organizationBodySchema = z.looseObject({
  name: z.string().min(1).optional(),
  owner_id: idSchema.optional(),
  address: z.object({ value: z.string() }).nullable().optional(),
  website: z.string().nullable().optional(),
  industry: z.number().int().nullable().optional(),
  employee_count: z.number().int().nullable().optional(),
  label_ids: z.array(z.number().int()).optional(),
  visible_to: z.number().int().optional(),
  add_time: z.string().optional(),
  custom_fields: customFieldsSchema.optional(),
});

export const activityBodySchema = z.looseObject({
  subject: z.string().optional(),
  type: z.string().optional(),
  owner_id: idSchema.optional(),
  person_id: idSchema.nullable().optional(),
  org_id: idSchema.nullable().optional(),
  deal_id: idSchema.nullable().optional(),
  due_date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
    .nullable()
    .optional(),
  due_time: z
    .string()
    .regex(/^\d{2}:\d{2}(:\d{2})?$/, 'must be HH:MM')
    .nullable()
    .optional(),
  duration: z.string().nullable().optional(),
  busy: z.boolean().optional(),
  done: z.boolean().optional(),
  note: z.string().nullable().optional(),
  public_description: z.string().nullable().optional(),
  priority: z.number().int().nullable().optional(),
  participants: z.array(z.object({ person_id: idSchema, primary: z.boolean().optional() })).optional(),
});

export const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().optional(),
  updated_since: z.string().optional(),
  updated_until: z.string().optional(),
  sort_by: z.string().optional(),
  sort_direction: z.enum(['asc', 'desc']).optional(),
  ids: z.string().optional(),
  owner_id: z.coerce.number().int().optional(),
  org_id: z.coerce.number().int().optional(),
  person_id: z.coerce.number().int().optional(),
  deal_id: z.coerce.number().int().optional(),
  done: z.enum(['true', 'false', '1', '0']).optional(),
  custom_fields: z.string().optional(),
  include_fields: z.string().optional(),
});

export const searchQuerySchema = z.object({
  term: z.string({ error: 'Required' }),
  fields: z.string().optional(),
  exact_match: z.enum(['true', 'false', '1', '0']).optional(),
  organization_id: z.coerce.number().int().optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().optional(),
});

export const webhookBodySchema = z.looseObject({
  subscription_url: z.url(),
  event_action: z.enum(['create', 'change', 'delete', '*']),
  event_object: z.enum([
    'activity',
    'deal',
    'lead',
    'note',
    'organization',
    'person',
    'pipeline',
    'product',
    'stage',
    'user',
    '*',
  ]),
  name: z.string().optional(),
  user_id: z.coerce.number().int().optional(),
  http_auth_user: z.string().nullable().optional(),
  http_auth_password: z.string().nullable().optional(),
  version: z.enum(['1.0', '2.0']).optional(),
});

export const personFieldBodySchema = z.looseObject({
  name: z.string().min(1),
  field_type: z.enum([
    'address',
    'date',
    'daterange',
    'double',
    'enum',
    'monetary',
    'org',
    'people',
    'phone',
    'set',
    'text',
    'time',
    'timerange',
    'user',
    'varchar',
    'varchar_auto',
  ]),
  options: z.array(z.object({ label: z.string() })).optional(),
});

export interface ObjectSpec<R extends StoredRecord> {
  name: PipedriveObjectName;
  plural: 'persons' | 'organizations' | 'activities';
  /** "Person" in "Person not found". */
  label: string;
  store: RecordStore<R>;
  toApi(record: R): ApiRecord;
  sortFields: Record<string, (record: R) => SortKey>;
  filter(record: R, query: z.infer<typeof listQuerySchema>): boolean;
  /** Validated record fields for a create; throws ValidationError. */
  create(
    body: unknown,
    account: OAuthAccount,
  ): Omit<R, 'id' | 'addTimeMs' | 'updateTimeMs'> & { add_time?: string };
  /** Validated patch for an update; throws ValidationError. */
  patch(current: R, body: unknown): Partial<R>;
}

function normalizeContacts(
  items: Array<{ value: string; primary?: boolean; label?: string }>,
): PipedriveEmail[] {
  const hasPrimary = items.some((item) => item.primary);
  return items.map((item, index) => ({
    value: item.value,
    primary: hasPrimary ? item.primary === true : index === 0,
    label: item.label ?? 'work',
  }));
}

/**
 * A local Pipedrive: OAuth (authorize page, token endpoint with HTTP Basic client auth and `api_domain`,
 * revocation), API v2 persons/organizations/activities, v1 personFields, organizationFields and webhooks (v2.0 delivery format), the
 * real error bodies and `x-ratelimit-*` headers. See libs/sandboxes/README.md for what is simplified.
 */

/** What the object specs need from the sandbox. */
export interface ObjectSpecContext {
  persons: RecordStore<PersonRecord>;
  organizations: RecordStore<OrganizationRecord>;
  activities: RecordStore<ActivityRecord>;
  /** Keys of the person custom fields (40-hex), in field order. */
  personCustomFieldKeys(): string[];
  /** Keys of the organization custom fields (40-hex), in field order. */
  organizationCustomFieldKeys(): string[];
  nowMs(): number;
}

export type ObjectSpecs = { [K in PipedriveObjectName]: ObjectSpec<StoredRecordOf<K>> };

function checkCustomFields(
  values: Record<string, unknown> | undefined,
  allowedKeys: string[],
): Record<string, unknown> {
  if (!values) return {};
  for (const key of Object.keys(values))
    if (!allowedKeys.includes(key)) throw new ValidationError(`custom_fields.${key}: Unknown custom field`);
  return values;
}

export function buildObjectSpecs(ctx: ObjectSpecContext): ObjectSpecs {
  const checkOrganization = (orgId: number | null | undefined): void => {
    if (orgId !== undefined && orgId !== null && !ctx.organizations.has(String(orgId)))
      throw new ValidationError(`org_id: Organization ${orgId} not found`);
  };
  const checkPerson = (personId: number | null | undefined): void => {
    if (personId !== undefined && personId !== null && !ctx.persons.has(String(personId)))
      throw new ValidationError(`person_id: Person ${personId} not found`);
  };
  const timeSorts = {
    id: (r: StoredRecord) => Number(r.id),
    update_time: (r: StoredRecord) => r.updateTimeMs,
    add_time: (r: StoredRecord) => r.addTimeMs,
  };
  const person: ObjectSpec<PersonRecord> = {
    name: 'person',
    plural: 'persons',
    label: 'Person',
    store: ctx.persons,
    toApi: (record) => personToApi(record, ctx.personCustomFieldKeys()),
    sortFields: timeSorts,
    filter: (r, q) =>
      (q.owner_id === undefined || r.owner_id === q.owner_id) &&
      (q.org_id === undefined || r.org_id === q.org_id),
    create: (raw, account) => {
      const body = parseOrThrow(personBodySchema, raw);
      if (!body.name) throw new ValidationError('name: Required');
      checkOrganization(body.org_id);
      return {
        name: body.name,
        ...splitName(body.name),
        owner_id: body.owner_id ?? Number(account.userId),
        org_id: body.org_id ?? null,
        emails: normalizeContacts(body.emails ?? []),
        phones: normalizeContacts(body.phones ?? []),
        label_ids: body.label_ids ?? [],
        visible_to: body.visible_to ?? 3,
        job_title: body.job_title ?? null,
        notes: body.notes ?? null,
        // A person without an e-mail has no marketing status; one with an e-mail starts without consent.
        marketing_status:
          (body.emails ?? []).length > 0 ? (body.marketing_status ?? 'no_consent') : undefined,
        custom_fields: checkCustomFields(body.custom_fields, ctx.personCustomFieldKeys()),
        add_time: body.add_time,
      };
    },
    patch: (current, raw) => {
      const body = parseOrThrow(personBodySchema, raw);
      checkOrganization(body.org_id);
      const patch: Partial<PersonRecord> = {};
      if (body.name !== undefined) Object.assign(patch, { name: body.name, ...splitName(body.name) });
      if (body.owner_id !== undefined) patch.owner_id = body.owner_id;
      if (body.org_id !== undefined) patch.org_id = body.org_id;
      if (body.emails !== undefined) patch.emails = normalizeContacts(body.emails);
      if (body.phones !== undefined) patch.phones = normalizeContacts(body.phones);
      if (body.label_ids !== undefined) patch.label_ids = body.label_ids;
      if (body.visible_to !== undefined) patch.visible_to = body.visible_to;
      if (body.job_title !== undefined) patch.job_title = body.job_title;
      if (body.notes !== undefined) patch.notes = body.notes;
      if (body.marketing_status !== undefined) patch.marketing_status = body.marketing_status;
      if (body.custom_fields !== undefined)
        patch.custom_fields = {
          ...current.custom_fields,
          ...checkCustomFields(body.custom_fields, ctx.personCustomFieldKeys()),
        };
      return patch;
    },
  };
  const organization: ObjectSpec<OrganizationRecord> = {
    name: 'organization',
    plural: 'organizations',
    label: 'Organization',
    store: ctx.organizations,
    toApi: (record) => organizationToApi(record, ctx.organizationCustomFieldKeys()),
    sortFields: timeSorts,
    filter: (r, q) => q.owner_id === undefined || r.owner_id === q.owner_id,
    create: (raw, account) => {
      const body = parseOrThrow(organizationBodySchema, raw);
      if (!body.name) throw new ValidationError('name: Required');
      return {
        name: body.name,
        owner_id: body.owner_id ?? Number(account.userId),
        address: body.address ?? null,
        website: body.website ?? null,
        industry: body.industry ?? null,
        employee_count: body.employee_count ?? null,
        label_ids: body.label_ids ?? [],
        visible_to: body.visible_to ?? 3,
        custom_fields: checkCustomFields(body.custom_fields, ctx.organizationCustomFieldKeys()),
        add_time: body.add_time,
      };
    },
    patch: (current, raw) => {
      const body = parseOrThrow(organizationBodySchema, raw);
      const { add_time: _ignored, custom_fields: custom, ...fields } = body;
      const patch: Partial<OrganizationRecord> = {};
      for (const key of [
        'name',
        'owner_id',
        'address',
        'website',
        'industry',
        'employee_count',
        'label_ids',
        'visible_to',
      ] as const)
        if (fields[key] !== undefined) Object.assign(patch, { [key]: fields[key] });
      if (custom !== undefined)
        patch.custom_fields = {
          ...current.custom_fields,
          ...checkCustomFields(custom, ctx.organizationCustomFieldKeys()),
        };
      return patch;
    },
  };
  const activity: ObjectSpec<ActivityRecord> = {
    name: 'activity',
    plural: 'activities',
    label: 'Activity',
    store: ctx.activities,
    toApi: (record) => activityToApi(record),
    sortFields: { ...timeSorts, due_date: (r: StoredRecord) => (r as ActivityRecord).due_date },
    filter: (r, q) =>
      (q.owner_id === undefined || r.owner_id === q.owner_id) &&
      (q.org_id === undefined || r.org_id === q.org_id) &&
      (q.person_id === undefined || r.person_id === q.person_id) &&
      (q.deal_id === undefined || r.deal_id === q.deal_id) &&
      (q.done === undefined || r.done === (q.done === 'true' || q.done === '1')),
    create: (raw, account) => {
      const body = parseOrThrow(activityBodySchema, raw);
      checkPerson(body.person_id);
      checkOrganization(body.org_id);
      const done = body.done ?? false;
      const participants =
        body.participants?.map((p) => ({ person_id: p.person_id, primary: p.primary ?? false })) ??
        (body.person_id ? [{ person_id: body.person_id, primary: true }] : []);
      return {
        subject: body.subject ?? 'Call',
        type: body.type ?? 'call',
        owner_id: body.owner_id ?? Number(account.userId),
        creator_user_id: Number(account.userId),
        person_id: body.person_id ?? null,
        org_id: body.org_id ?? null,
        deal_id: body.deal_id ?? null,
        due_date: body.due_date ?? null,
        due_time: body.due_time ?? null,
        duration: body.duration ?? null,
        busy: body.busy ?? false,
        done,
        marked_as_done_time: done ? v2Time(ctx.nowMs()) : null,
        note: body.note ?? null,
        public_description: body.public_description ?? null,
        priority: body.priority ?? null,
        participants,
      };
    },
    patch: (current, raw) => {
      const body = parseOrThrow(activityBodySchema, raw);
      checkPerson(body.person_id);
      checkOrganization(body.org_id);
      const patch: Partial<ActivityRecord> = {};
      const keys = [
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
        'note',
        'public_description',
        'priority',
      ] as const;
      for (const key of keys) if (body[key] !== undefined) Object.assign(patch, { [key]: body[key] });
      if (body.participants !== undefined)
        patch.participants = body.participants.map((p) => ({
          person_id: p.person_id,
          primary: p.primary ?? false,
        }));
      if (body.done !== undefined && body.done !== current.done) {
        patch.done = body.done;
        patch.marked_as_done_time = body.done ? v2Time(ctx.nowMs()) : null;
      }
      return patch;
    },
  };
  return { person, organization, activity } as unknown as ObjectSpecs;
}
