/**
 * Stored shapes of the Pipedrive sandbox's objects and their API v2 representations.
 * Follows https://developers.pipedrive.com/docs/api/v1/Persons (v2 section: "Get all persons"),
 * .../Organizations, .../Activities and .../PersonFields; field names as in the pipedrive SDK's v2 models
 * (Person, OrganizationItem, ActivityItem) and v1 Field model.
 */
export interface PipedriveEmail {
  value: string;
  primary: boolean;
  label: string;
}

export type PipedrivePhone = PipedriveEmail;

interface Timestamps {
  /** Epoch ms; written from the SandboxClock. */
  addTimeMs: number;
  updateTimeMs: number;
}

export interface PersonRecord extends Timestamps {
  id: string;
  name: string;
  first_name: string | null;
  last_name: string | null;
  owner_id: number;
  org_id: number | null;
  emails: PipedriveEmail[];
  phones: PipedrivePhone[];
  label_ids: number[];
  visible_to: number;
  job_title: string | null;
  notes: string | null;
  /** Campaigns' consent (no_consent, unsubscribed, subscribed, archived); returned only when asked for. */
  marketing_status?: string;
  custom_fields: Record<string, unknown>;
}

export interface OrganizationRecord extends Timestamps {
  id: string;
  name: string;
  owner_id: number;
  address: { value: string } | null;
  website: string | null;
  industry: number | null;
  employee_count: number | null;
  label_ids: number[];
  visible_to: number;
  custom_fields: Record<string, unknown>;
}

export interface ActivityRecord extends Timestamps {
  id: string;
  subject: string;
  type: string;
  owner_id: number;
  creator_user_id: number;
  person_id: number | null;
  org_id: number | null;
  deal_id: number | null;
  due_date: string | null;
  due_time: string | null;
  duration: string | null;
  busy: boolean;
  done: boolean;
  marked_as_done_time: string | null;
  note: string | null;
  public_description: string | null;
  priority: number | null;
  participants: Array<{ person_id: number; primary: boolean }>;
}

export type PipedriveObjectName = 'person' | 'organization' | 'activity';

/** v1 field metadata (GET /v1/personFields), shaped like the SDK's v1 `Field` model. */
export interface PipedriveField {
  id: number;
  key: string;
  name: string;
  order_nr: number;
  field_type: string;
  add_time: string;
  update_time: string;
  last_updated_by_user_id: number | null;
  created_by_user_id: number | null;
  active_flag: boolean;
  edit_flag: boolean;
  index_visible_flag: boolean;
  details_visible_flag: boolean;
  add_visible_flag: boolean;
  important_flag: boolean;
  bulk_edit_allowed: boolean;
  searchable_flag: boolean;
  filtering_allowed: boolean;
  sortable_flag: boolean;
  mandatory_flag: boolean;
  options?: Array<{ id: number; label: string }> | null;
}

/** API v2 timestamps are RFC 3339 in UTC without fractions ("2025-01-01T10:20:00Z"). */
export function v2Time(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** API v1 timestamps are "YYYY-MM-DD HH:MM:SS" in UTC. */
export function v1Time(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

export function personToApi(record: PersonRecord, customFieldKeys: string[]): Record<string, unknown> {
  // marketing_status comes back only through include_fields=marketing_status.
  const {
    addTimeMs,
    updateTimeMs,
    id,
    custom_fields: custom,
    marketing_status: _marketing,
    ...rest
  } = record;
  return {
    id: Number(id),
    ...rest,
    add_time: v2Time(addTimeMs),
    update_time: v2Time(updateTimeMs),
    is_deleted: false,
    picture_id: null,
    custom_fields: customFieldsToApi(custom, customFieldKeys),
  };
}

export function organizationToApi(
  record: OrganizationRecord,
  customFieldKeys: string[],
): Record<string, unknown> {
  const { addTimeMs, updateTimeMs, id, custom_fields: custom, ...rest } = record;
  return {
    id: Number(id),
    ...rest,
    add_time: v2Time(addTimeMs),
    update_time: v2Time(updateTimeMs),
    is_deleted: false,
    custom_fields: customFieldsToApi(custom, customFieldKeys),
  };
}

export function activityToApi(record: ActivityRecord): Record<string, unknown> {
  const { addTimeMs, updateTimeMs, id, ...rest } = record;
  return {
    id: Number(id),
    ...rest,
    add_time: v2Time(addTimeMs),
    update_time: v2Time(updateTimeMs),
    is_deleted: false,
  };
}

/** v2 lists every custom field of the object, null when unset. */
function customFieldsToApi(values: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const key of keys) result[key] = values[key] ?? null;
  return result;
}

/**
 * Pipedrive fills first_name/last_name from `name`: the first word is the first name and the rest the last name
 * ("Ada King Lovelace" → "Ada" / "King Lovelace"), so a multi-word last name written as `first + ' ' + last`
 * reads back as written.
 */
export function splitName(name: string): { first_name: string | null; last_name: string | null } {
  const parts = name.trim().split(/\s+/);
  if (parts.length === 0 || parts[0] === '') return { first_name: null, last_name: null };
  if (parts.length === 1) return { first_name: parts[0], last_name: null };
  return { first_name: parts[0], last_name: parts.slice(1).join(' ') };
}
