import { compareIds } from '@pm/connector-kit';
import { CrmError, CrmErrorCode, type CrmRecord, type CrmSession } from '@pm/integration-port';
import { mapWithConcurrency } from './concurrency';
import type { PipedriveHttpClient } from './client';
import { PIPEDRIVE_PROVIDER } from './http-facts';
import { personHasEmail, requirePipedriveObject, toCrmRecord } from './objects';
import { listRecordsByIds } from './get-records';

interface SearchItem {
  item?: { id?: number; emails?: string[] };
}

/**
 * Ids of persons holding `email`: `GET /api/v2/persons/search?term&fields=email&exact_match=true`. Exact matching
 * is case-insensitive in Pipedrive; the returned e-mails are checked again so a partial match never counts.
 */
export async function searchPersonIdsByEmail(
  http: PipedriveHttpClient,
  session: CrmSession,
  email: string,
): Promise<string[]> {
  const wanted = email.toLowerCase();
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await http.api<{ items?: SearchItem[] }>(session, {
      method: 'GET',
      path: '/api/v2/persons/search',
      query: { term: email, fields: 'email', exact_match: true, limit: 100, cursor },
    });
    for (const { item } of page.data?.items ?? []) {
      if (item?.id !== undefined && (item.emails ?? []).some((value) => value.toLowerCase() === wanted)) {
        ids.push(String(item.id));
      }
    }
    cursor = page.additional_data?.next_cursor ?? undefined;
  } while (cursor);
  return ids.sort(compareIds);
}

/**
 * Persons whose e-mail is one of `emails`. Pipedrive's search takes one term a call, so the searches run with
 * bounded concurrency; the matches are then read in one batched list call (`ids=`, up to 100 a call).
 */
export async function findPipedrivePersonsByEmail(
  http: PipedriveHttpClient,
  session: CrmSession,
  object: string,
  emails: readonly string[],
  concurrency: number,
): Promise<CrmRecord[]> {
  if (requirePipedriveObject(object) !== 'persons') {
    throw new CrmError(CrmErrorCode.VALIDATION_FAILED, `Pipedrive ${object} have no e-mail to search by`, {
      provider: PIPEDRIVE_PROVIDER,
      field: 'object',
    });
  }
  const wanted = [
    ...new Set(emails.map((email) => email.trim().toLowerCase()).filter((email) => email !== '')),
  ];
  const idLists = await mapWithConcurrency(wanted, concurrency, (email) =>
    searchPersonIdsByEmail(http, session, email),
  );
  const ids = [...new Set(idLists.flat())].sort(compareIds);
  const records = await listRecordsByIds(http, session, 'persons', ids, concurrency);
  return records
    .filter((record) => wanted.some((email) => personHasEmail(record, email)))
    .map((record) => toCrmRecord('persons', record))
    .sort((a, b) => compareIds(a.id, b.id));
}
