import { CrmError, CrmErrorCode, type CrmRecord } from '@pm/integration-port';
import { objectSpec, selectFields } from './objects';
import { toCrmRecord, type QueryAnswer } from './records';
import type { SessionConnection } from './session-connection';
import { soqlName, soqlString } from './soql';

/** E-mails per SOQL `IN (…)`: keeps each query far below the 100,000-character SOQL limit. */
const EMAILS_PER_QUERY = 200;

/**
 * Records whose e-mail is one of `emails`. SOQL compares text case-insensitively, so `Email IN ('a@x.com')` also
 * finds `A@X.com`; one query per 200 e-mails, following `nextRecordsUrl` when an answer comes in batches.
 */
export async function findByEmail(
  connection: SessionConnection,
  object: string,
  emails: readonly string[],
  /** Fields to read; default: the object's default fields. */
  requestedFields?: string[],
): Promise<CrmRecord[]> {
  const spec = objectSpec(object);
  const emailField = spec?.capability.emailField;
  if (spec === undefined || emailField === undefined) {
    throw new CrmError(
      CrmErrorCode.VALIDATION_FAILED,
      `Salesforce ${object} has no e-mail field to match on`,
      {
        provider: 'salesforce',
      },
    );
  }
  const wanted = [
    ...new Set(emails.map((email) => email.trim().toLowerCase()).filter((email) => email !== '')),
  ];
  const fields = selectFields(spec, requestedFields ?? [emailField, ...spec.defaultFields]);
  const found: CrmRecord[] = [];
  for (let start = 0; start < wanted.length; start += EMAILS_PER_QUERY) {
    const chunk = wanted.slice(start, start + EMAILS_PER_QUERY);
    const soql =
      `SELECT ${fields.map(soqlName).join(', ')} FROM ${spec.capability.name}` +
      ` WHERE ${emailField} IN (${chunk.map(soqlString).join(', ')}) ORDER BY CreatedDate ASC, Id ASC`;
    let answer = await connection.call((conn) =>
      conn.request<QueryAnswer>(`${connection.baseUrl}/query?q=${encodeURIComponent(soql)}`),
    );
    found.push(...answer.records.map((row) => toCrmRecord(spec.capability.name, row)));
    while (!answer.done && answer.nextRecordsUrl) {
      const next = answer.nextRecordsUrl;
      answer = await connection.call((conn) => conn.request<QueryAnswer>(next));
      found.push(...answer.records.map((row) => toCrmRecord(spec.capability.name, row)));
    }
  }
  return found;
}

/** The lower-cased e-mail of a record found by `findByEmail`. */
export function emailOf(record: CrmRecord, emailField: string): string | undefined {
  const value = record.fields[emailField];
  return typeof value === 'string' ? value.toLowerCase() : undefined;
}
