import { toUtcIso } from '@pm/connector-kit';
import type { CrmRecord } from '@pm/integration-port';

/** A row of a SOQL answer: the record's fields plus `attributes {type, url}`. */
export type SoqlRow = Record<string, unknown> & { attributes?: { type?: string; url?: string } };

/** A SOQL query answer (REST "Query": totalSize, done, nextRecordsUrl, records). */
export interface QueryAnswer {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: SoqlRow[];
}

/** The lookup fields that make a record's associations (`CrmRecord.associations`), by object: a Contact's Account. */
const ASSOCIATION_LOOKUPS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Contact: { AccountId: 'Account' },
};

/**
 * A SOQL row as the port's record: the id, SystemModstamp as the modification time (UTC), the other fields, and
 * the associations its lookups name where they were read and set (a Contact's `AccountId` as `associations.Account`).
 */
export function toCrmRecord(object: string, row: SoqlRow): CrmRecord {
  const { attributes: _attributes, ...fields } = row;
  void _attributes;
  const createdAt = typeof row.CreatedDate === 'string' ? toUtcIso(row.CreatedDate) : undefined;
  const associations: Record<string, string[]> = {};
  for (const [field, toObject] of Object.entries(ASSOCIATION_LOOKUPS[object] ?? {})) {
    const id = row[field];
    if (typeof id === 'string' && id !== '') associations[toObject] = [id];
  }
  return {
    id: String(row.Id),
    object,
    // SystemModstamp moves on every change, including system ones (LastModifiedDate does not): the safe cursor.
    modifiedAt: toUtcIso(String(row.SystemModstamp ?? row.LastModifiedDate)),
    ...(createdAt !== undefined ? { createdAt } : {}),
    fields,
    ...(Object.keys(associations).length > 0 ? { associations } : {}),
  };
}
