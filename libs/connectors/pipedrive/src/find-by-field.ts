import { compareIds, normaliseEmail } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  type CrmRecord,
  type CrmSession,
  type FindByFieldRequest,
} from '@pm/integration-port';
import type { PipedriveHttpClient } from './client';
import { listRecordsByIds } from './get-records';
import { PIPEDRIVE_PROVIDER, PIPEDRIVE_SEARCH_PAGINATION } from './http-facts';
import { personHasEmail, requirePipedriveObject, toCrmRecord, type PipedriveApiRecord } from './objects';
import { collectPipedrivePages } from './pages';

/** Results per search page: one exact value rarely matches more than a handful of records. */
const SEARCH_PAGE_SIZE = 100;

/** Custom fields are named by their 40-hex key, as describe-object reports them. */
const CUSTOM_FIELD_KEY = /^[0-9a-f]{40}$/;

/** The `fields=` of the v2 item search that holds each searchable standard field, per object. */
const SEARCHABLE: Readonly<Record<'persons' | 'organizations', Readonly<Record<string, string>>>> = {
  persons: { email: 'email', name: 'name', phone: 'phone', notes: 'notes' },
  organizations: { name: 'name', address: 'address', notes: 'notes' },
};

/** The search `fields=` value for a port field, or VALIDATION_FAILED naming the field Pipedrive cannot search. */
function searchFieldFor(object: string, field: string): string {
  const name = requirePipedriveObject(object);
  const searchable = name === 'activities' ? undefined : SEARCHABLE[name];
  const searchField = CUSTOM_FIELD_KEY.test(field) ? 'custom_fields' : searchable?.[field];
  if (searchable === undefined || searchField === undefined) {
    throw new CrmError(
      CrmErrorCode.VALIDATION_FAILED,
      `Pipedrive cannot search ${name} by ${field}; only ${name === 'activities' ? 'persons and organizations' : `custom fields and ${Object.keys(searchable ?? {}).join(', ')}`} are searchable`,
      { provider: PIPEDRIVE_PROVIDER, field },
    );
  }
  return searchField;
}

/** Whether a record's value is one of the wanted ones: exactly, but e-mails without regard to case. */
function holdsOneOf(
  api: PipedriveApiRecord,
  record: CrmRecord,
  field: string,
  values: readonly string[],
): boolean {
  if (record.object === 'persons' && field === 'email')
    return values.some((value) => personHasEmail(api, value));
  const stored = record.fields[field];
  if (typeof stored !== 'string' && typeof stored !== 'number') return false;
  return values.includes(String(stored));
}

/**
 * findByField: Pipedrive's item search (`GET /api/v2/{persons|organizations}/search?term&fields&exact_match=true`)
 * takes one term a request, so each value is searched in turn in the one field group that holds the field
 * (`custom_fields` for a custom field, which the search does not tell apart), every page followed; the matches are
 * then read 100 a request and kept only where the field really holds the value (exactly; e-mails without regard to
 * case, as Pipedrive compares them).
 */
export async function findPipedriveByField(
  http: PipedriveHttpClient,
  session: CrmSession,
  request: FindByFieldRequest,
): Promise<CrmRecord[]> {
  const searchField = searchFieldFor(request.object, request.field);
  const object = requirePipedriveObject(request.object) as 'persons' | 'organizations';
  const isEmail = object === 'persons' && request.field === 'email';
  const terms = [
    ...new Set(
      request.values.flatMap((value) => {
        const term = isEmail ? normaliseEmail(value) : value.trim();
        return term === undefined || term === '' ? [] : [term];
      }),
    ),
  ];
  const ids = new Set<string>();
  for (const term of terms) {
    const items = await collectPipedrivePages<{ item?: { id?: number } }>(
      http,
      session,
      PIPEDRIVE_SEARCH_PAGINATION,
      {
        method: 'GET',
        path: `/api/v2/${object}/search`,
        query: { term, fields: searchField, exact_match: true, limit: SEARCH_PAGE_SIZE },
      },
    );
    for (const { item } of items) if (item?.id !== undefined) ids.add(String(item.id));
  }
  const selected = request.fields === undefined ? undefined : [request.field, ...request.fields];
  const records = await listRecordsByIds(http, session, object, [...ids].sort(compareIds));
  return records
    .flatMap((api) => {
      const record = toCrmRecord(object, api);
      if (!holdsOneOf(api, record, request.field, request.values)) return [];
      return [selected === undefined ? record : toCrmRecord(object, api, selected)];
    })
    .sort((a, b) => compareIds(a.id, b.id));
}
