/**
 * What one reconcile found for one CRM object: how many records each side holds, and the drift by kind — what the
 * change reads and events missed. Stored with the reconcile's run and answered by the API.
 */
export interface ReconcileObjectDrift {
  /** Live records of the object in the CRM. */
  crmRecords: number;
  /** Contacts in PenguinMails (not deleted). */
  localContacts: number;
  /** Linked records the CRM no longer holds (deleted or vanished behind the service's back). */
  missingInCrm: number;
  /** Linked records the CRM modified after the link's last sync, with no change read or event for it. */
  changedInCrm: number;
  /** Contacts linked to no record of this object though the connection writes to the CRM. */
  notInCrm: number;
  /** Linked contacts changed (or deleted) in PenguinMails after the link's last sync, not yet pushed. */
  changedLocally: number;
  /** CRM records linked to no contact though the connection reads from the CRM. */
  notInPenguinMails: number;
}

export type ReconcileDriftKind = Exclude<keyof ReconcileObjectDrift, 'crmRecords' | 'localContacts'>;

export const RECONCILE_DRIFT_KINDS: readonly ReconcileDriftKind[] = [
  'missingInCrm',
  'changedInCrm',
  'notInCrm',
  'changedLocally',
  'notInPenguinMails',
];

/** A reconcile's findings, by CRM object. */
export type ReconcileDrift = Record<string, ReconcileObjectDrift>;
