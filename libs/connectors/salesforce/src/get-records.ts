import { inBatches } from '@pm/connector-kit';
import type { CrmRecord, GetRecordsRequest } from '@pm/integration-port';
import { objectSpec, selectFields } from './objects';
import { queryAllRows } from './query';
import { belongsTo, isRecordId, recordKey } from './record-ids';
import { toCrmRecord } from './records';
import type { SessionConnection } from './session-connection';
import { soqlName, soqlString } from './soql';

/**
 * Ids per SOQL `Id IN (…)`: 200 eighteen-character ids make a query of about 4,500 characters, far below SOQL's
 * 100,000-character limit, and match the sObject Collections size the rest of the connector batches at.
 */
export const IDS_PER_QUERY = 200;

/**
 * Records by id with one SOQL query per 200 ids, through `/query` (not `/queryAll`), so records in the recycle bin
 * are absent like ids that never existed. The same field selection and record shape as `readChanges`.
 *
 * An id that cannot belong to the object (malformed, or another object's key prefix) cannot match and is not sent:
 * Salesforce refuses a whole query over one malformed id ("invalid ID field"). Results come back in the order of the
 * ids asked for, each record once, whether it was asked for by its 15- or 18-character id.
 */
export async function getRecords(
  connection: SessionConnection,
  request: GetRecordsRequest,
): Promise<CrmRecord[]> {
  const spec = objectSpec(request.object);
  const object = spec?.capability.name ?? request.object;
  const position = new Map<string, number>();
  for (const id of request.ids) {
    if (isRecordId(id) && belongsTo(spec, id) && !position.has(recordKey(id))) {
      position.set(recordKey(id), position.size);
    }
  }
  const wanted = [...position.keys()];
  if (wanted.length === 0) return [];

  const fields = selectFields(spec, request.fields).map(soqlName);
  const found: CrmRecord[] = [];
  for (const batch of inBatches(wanted, IDS_PER_QUERY)) {
    const soql = `SELECT ${fields.join(', ')} FROM ${soqlName(object)} WHERE Id IN (${batch.map(soqlString).join(', ')})`;
    // 200 rows never fill a query batch (2,000 by default), but an org may set a smaller batch size: all pages.
    const rows = await queryAllRows(connection, soql);
    found.push(...rows.map((row) => toCrmRecord(object, row)));
  }
  const order = (record: CrmRecord) => position.get(recordKey(record.id)) ?? Number.MAX_SAFE_INTEGER;
  return found.sort((left, right) => order(left) - order(right));
}
