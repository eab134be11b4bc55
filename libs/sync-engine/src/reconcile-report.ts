import type { ReconcileObjectDrift } from '@pm/domain/model';
import type { SyncLogLine } from './ports';

/** Drift with nothing found yet: the totals are filled in as the sides are read. */
export const noDrift = (): ReconcileObjectDrift => ({
  crmRecords: 0,
  localContacts: 0,
  missingInCrm: 0,
  changedInCrm: 0,
  notInCrm: 0,
  changedLocally: 0,
  notInPenguinMails: 0,
});

/**
 * The sync log's line for one object's reconcile, e.g. "Reconcile: 7 records missing in HubSpot — PenguinMails
 * holds 67 contacts and HubSpot 60". The totals are always said, so a difference the rules keep (records deleted
 * in the CRM but kept in PenguinMails) stays explained after the repair.
 */
export function reconcileLine(object: string, crm: string, drift: ReconcileObjectDrift): SyncLogLine {
  const parts = [
    drift.missingInCrm > 0 && `${drift.missingInCrm} records missing in ${crm}`,
    drift.changedInCrm > 0 && `${drift.changedInCrm} changed in ${crm} without an event`,
    drift.notInCrm > 0 && `${drift.notInCrm} contacts not in ${crm}`,
    drift.changedLocally > 0 && `${drift.changedLocally} changed in PenguinMails and not pushed`,
    drift.notInPenguinMails > 0 && `${drift.notInPenguinMails} ${crm} records not in PenguinMails`,
  ].filter((part): part is string => typeof part === 'string');
  const totals = `PenguinMails holds ${drift.localContacts} contacts and ${crm} ${drift.crmRecords}`;
  return {
    direction: 'none',
    object,
    recordKey: null,
    action: 'drift_found',
    message: `Reconcile: ${parts.length > 0 ? parts.join(', ') : 'no drift'} — ${totals}`,
    details: { ...drift },
  };
}
