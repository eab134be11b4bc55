import { inBatches } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  normaliseDomain,
  type CrmRecord,
  type FindCompaniesRequest,
} from '@pm/integration-port';
import { objectSpec, selectFields } from './objects';
import { queryAllRows } from './query';
import { toCrmRecord } from './records';
import type { SessionConnection } from './session-connection';
import { soqlName, soqlString } from './soql';

/** Names and domains per SOQL query: each domain is one `LIKE` term, so keep the WHERE clause short. */
export const TERMS_PER_QUERY = 50;

/** A SOQL LIKE pattern's text: `%` and `_` are wildcards there, so a literal one is escaped. */
const likeText = (value: string): string => value.replace(/[%_]/g, (c) => `\\${c}`);

/**
 * Accounts whose `Name` is one of the names (SOQL compares text case-insensitively) or whose `Website` contains one
 * of the domains (`Website LIKE '%acme.com%'`: Salesforce keeps a web address as typed, `https://www.acme.com/`).
 * A containing match may be wider than the domain (`notacme.com`); the caller keeps only exact matches.
 */
export async function findCompanies(
  connection: SessionConnection,
  request: FindCompaniesRequest,
): Promise<CrmRecord[]> {
  const spec = objectSpec(request.object);
  if (spec === undefined || spec.capability.role !== 'company') {
    throw new CrmError(
      CrmErrorCode.VALIDATION_FAILED,
      `Salesforce ${request.object} is not a company object`,
      {
        provider: 'salesforce',
        field: 'object',
      },
    );
  }
  const names = [...new Set(request.names.map((name) => name.trim()).filter((name) => name !== ''))];
  const domains = [
    ...new Set(request.domains.map(normaliseDomain).filter((domain): domain is string => domain !== null)),
  ];
  const terms = [
    ...names.map((name) => ({ kind: 'name' as const, value: name })),
    ...domains.map((domain) => ({ kind: 'domain' as const, value: domain })),
  ];
  const fields = selectFields(spec, request.fields ?? ['Name', 'Website', ...spec.defaultFields]);
  const found = new Map<string, CrmRecord>();
  for (const batch of inBatches(terms, TERMS_PER_QUERY)) {
    const byName = batch.filter((term) => term.kind === 'name').map((term) => soqlString(term.value));
    const conditions = [
      ...(byName.length > 0 ? [`Name IN (${byName.join(', ')})`] : []),
      ...batch
        .filter((term) => term.kind === 'domain')
        .map((term) => `Website LIKE ${soqlString(`%${likeText(term.value)}%`)}`),
    ];
    const soql =
      `SELECT ${fields.map(soqlName).join(', ')} FROM ${spec.capability.name}` +
      ` WHERE ${conditions.join(' OR ')} ORDER BY CreatedDate ASC, Id ASC`;
    for (const row of await queryAllRows(connection, soql)) {
      const record = toCrmRecord(spec.capability.name, row);
      found.set(record.id, record);
    }
  }
  return [...found.values()];
}
