import { inBatches, normaliseEmail, uniqueNormalisedEmails } from '@pm/connector-kit';
import { CrmError, CrmErrorCode, type CrmRecord } from '@pm/integration-port';
import { objectSpec, selectFields } from './objects';
import { queryAllRows } from './query';
import { toCrmRecord } from './records';
import type { SessionConnection } from './session-connection';
import { soqlName, soqlString } from './soql';

/** E-mails per SOQL `IN (…)`: keeps each query far below the 100,000-character SOQL limit. */
const EMAILS_PER_QUERY = 200;

/**
 * Records whose e-mail is one of `emails`. SOQL compares text case-insensitively, so `Email IN ('a@x.com')` also
 * finds `A@X.com`; one query per 200 e-mails, all pages of each answer followed (`queryAllRows`).
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
  const fields = selectFields(spec, requestedFields ?? [emailField, ...spec.defaultFields]);
  const found: CrmRecord[] = [];
  for (const batch of inBatches(uniqueNormalisedEmails(emails), EMAILS_PER_QUERY)) {
    const soql =
      `SELECT ${fields.map(soqlName).join(', ')} FROM ${spec.capability.name}` +
      ` WHERE ${emailField} IN (${batch.map(soqlString).join(', ')}) ORDER BY CreatedDate ASC, Id ASC`;
    const rows = await queryAllRows(connection, soql);
    found.push(...rows.map((row) => toCrmRecord(spec.capability.name, row)));
  }
  return found;
}

/** The normalised e-mail of a record found by `findByEmail`, the key it is matched on. */
export function emailOf(record: CrmRecord, emailField: string): string | undefined {
  return normaliseEmail(record.fields[emailField]);
}
