import { compareIds, normaliseEmail, uniqueNormalisedEmails } from '@pm/connector-kit';
import { CrmError, CrmErrorCode, type CrmRecord, type CrmSession } from '@pm/integration-port';
import type { PipedriveHttpClient } from './client';
import { listRecordsByIds } from './get-records';
import { PIPEDRIVE_PROVIDER, PIPEDRIVE_SEARCH_PAGINATION } from './http-facts';
import { personHasEmail, requirePipedriveObject, toCrmRecord } from './objects';
import { collectPipedrivePages } from './pages';

interface SearchItem {
  item?: { id?: number; emails?: string[] };
}

/** Results per search page: one e-mail rarely matches more than a handful of persons. */
const SEARCH_PAGE_SIZE = 100;

/**
 * Ids of persons holding `email`: `GET /api/v2/persons/search?term&fields=email&exact_match=true`, every page.
 * Exact matching is case-insensitive in Pipedrive; the returned e-mails are checked again so a partial match never
 * counts.
 */
export async function searchPersonIdsByEmail(
  http: PipedriveHttpClient,
  session: CrmSession,
  email: string,
): Promise<string[]> {
  const wanted = normaliseEmail(email);
  if (wanted === undefined) return [];
  const items = await collectPipedrivePages<SearchItem>(http, session, PIPEDRIVE_SEARCH_PAGINATION, {
    method: 'GET',
    path: '/api/v2/persons/search',
    query: { term: wanted, fields: 'email', exact_match: true, limit: SEARCH_PAGE_SIZE },
  });
  const ids = items
    .filter(({ item }) => (item?.emails ?? []).some((value) => normaliseEmail(value) === wanted))
    .flatMap(({ item }) => (item?.id === undefined ? [] : [String(item.id)]));
  return [...new Set(ids)].sort(compareIds);
}

/**
 * Persons whose e-mail is one of `emails`. Pipedrive's search takes one term a call, so the searches run one after
 * another (the engine decides how many port calls run at once); the matches are then read in batched list calls
 * (`ids=`, up to 100 a call).
 */
export async function findPipedrivePersonsByEmail(
  http: PipedriveHttpClient,
  session: CrmSession,
  object: string,
  emails: readonly string[],
): Promise<CrmRecord[]> {
  if (requirePipedriveObject(object) !== 'persons') {
    throw new CrmError(CrmErrorCode.VALIDATION_FAILED, `Pipedrive ${object} have no e-mail to search by`, {
      provider: PIPEDRIVE_PROVIDER,
      field: 'object',
    });
  }
  const wanted = uniqueNormalisedEmails(emails);
  const ids = new Set<string>();
  for (const email of wanted) {
    for (const id of await searchPersonIdsByEmail(http, session, email)) ids.add(id);
  }
  const records = await listRecordsByIds(http, session, 'persons', [...ids].sort(compareIds));
  return records
    .filter((record) => wanted.some((email) => personHasEmail(record, email)))
    .map((record) => toCrmRecord('persons', record))
    .sort((a, b) => compareIds(a.id, b.id));
}
