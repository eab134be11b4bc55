import type { UpsertResult } from '@pm/integration-port';
import { conflictLogLine, type ConflictResolution } from './conflict-resolver';
import type { LocalValues } from './field-mapping';
import type { SyncLogLine } from './ports';

export const syncedToCrm = (key: string, crm: string): string => `Contact synced: ${key} → ${crm}`;
export const syncedFromCrm = (key: string, crm: string): string => `Contact synced: ${key} ← ${crm}`;

type Direction = SyncLogLine['direction'];

/** A record synced one way: created or updated on the receiving side, with the fields written. */
export function syncedLine(
  direction: 'to_crm' | 'from_crm',
  object: string,
  key: string,
  crm: string,
  change: { created: boolean; crmId: string; fields: LocalValues },
): SyncLogLine {
  return {
    direction,
    object,
    recordKey: key,
    action: change.created ? 'created' : 'updated',
    message: direction === 'to_crm' ? syncedToCrm(key, crm) : syncedFromCrm(key, crm),
    details: { crmId: change.crmId, fields: change.fields },
  };
}

/** One line per field conflict the policy settled, with both values. */
export function conflictLines(
  direction: Direction,
  object: string,
  key: string,
  resolutions: readonly ConflictResolution[],
): SyncLogLine[] {
  return resolutions.map((resolution) => ({
    direction,
    object,
    recordKey: key,
    action: 'conflict_resolved',
    ...conflictLogLine(resolution),
  }));
}

/** Two or more CRM records hold one e-mail: none is merged or linked. */
export function duplicateLine(
  direction: Direction,
  object: string,
  email: string,
  crmIds: string[],
  crm: string,
): SyncLogLine {
  return {
    direction,
    object,
    recordKey: email,
    action: 'duplicate_found',
    message: `Duplicate in ${crm}: ${email} is on ${crmIds.length} ${object} records (${crmIds.join(', ')}); not merged`,
    details: { crmIds },
  };
}

/** Two or more CRM records hold one matching key value (`field` is the CRM's key field): none is taken. */
export function keyDuplicateLine(
  direction: Direction,
  object: string,
  recordKey: string,
  key: { field: string; value: string },
  crmIds: string[],
  crm: string,
): SyncLogLine {
  return {
    direction,
    object,
    recordKey,
    action: 'duplicate_found',
    message: `Duplicate in ${crm}: ${key.field} "${key.value}" is on ${crmIds.length} ${object} records (${crmIds.join(', ')}); not merged`,
    details: { crmIds, matchField: key.field },
  };
}

/** A write to the CRM the CRM refused (or did not answer for): its own message, verbatim. */
export function pushErrorLine(
  object: string,
  email: string,
  result: UpsertResult | undefined,
  crm: string,
): SyncLogLine {
  const error = result && !result.ok ? result.error : undefined;
  return {
    direction: 'to_crm',
    object,
    recordKey: email,
    action: 'error',
    message: `Contact not synced: ${email} → ${crm}: ${error?.message ?? 'no result returned'}`,
    details: error ? { code: error.code, field: error.field, crmCode: error.crmCode } : null,
  };
}

/** The CRM's message for a record whose write failed. */
export const writeErrorMessage = (result: UpsertResult | undefined): string =>
  result && !result.ok ? result.error.message : 'no result returned';
