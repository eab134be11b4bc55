import { compareIds } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  normaliseCompanyName,
  type CrmRecord,
  type CrmSession,
  type FindCompaniesRequest,
} from '@pm/integration-port';
import type { PipedriveHttpClient } from './client';
import { listRecordsByIds } from './get-records';
import { PIPEDRIVE_PROVIDER, PIPEDRIVE_SEARCH_PAGINATION } from './http-facts';
import { requirePipedriveObject, toCrmRecord } from './objects';
import { collectPipedrivePages } from './pages';

interface SearchItem {
  item?: { id?: number; name?: string };
}

/** Results per search page: one exact name rarely matches more than a few organizations. */
const SEARCH_PAGE_SIZE = 100;

/**
 * Organizations named one of `names`: `GET /api/v2/organizations/search?term&fields=name&exact_match=true` per
 * name (Pipedrive searches one term a call, case-insensitively), then the matches read 100 a call. Pipedrive's
 * organization search covers name, address, notes and custom fields, not `website`, so `domains` cannot be looked
 * up here: an organization is matched by its name.
 */
export async function findPipedriveCompanies(
  http: PipedriveHttpClient,
  session: CrmSession,
  request: FindCompaniesRequest,
): Promise<CrmRecord[]> {
  if (requirePipedriveObject(request.object) !== 'organizations') {
    throw new CrmError(CrmErrorCode.VALIDATION_FAILED, `Pipedrive ${request.object} are not organizations`, {
      provider: PIPEDRIVE_PROVIDER,
      field: 'object',
    });
  }
  const names = [...new Set(request.names.map((name) => name.trim()).filter((name) => name !== ''))];
  const ids = new Set<string>();
  for (const name of names) {
    const items = await collectPipedrivePages<SearchItem>(http, session, PIPEDRIVE_SEARCH_PAGINATION, {
      method: 'GET',
      path: '/api/v2/organizations/search',
      query: { term: name, fields: 'name', exact_match: true, limit: SEARCH_PAGE_SIZE },
    });
    for (const { item } of items) {
      if (item?.id !== undefined && normaliseCompanyName(item.name) === normaliseCompanyName(name))
        ids.add(String(item.id));
    }
  }
  const records = await listRecordsByIds(http, session, 'organizations', [...ids].sort(compareIds));
  return records.map((record) => toCrmRecord('organizations', record)).sort((a, b) => compareIds(a.id, b.id));
}
