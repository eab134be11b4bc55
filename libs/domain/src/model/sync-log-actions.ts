/** What a sync log line says happened to a record. */
export const SYNC_LOG_ACTIONS = [
  'created',
  'updated',
  'skipped',
  'conflict_resolved',
  'error',
  'deleted',
  'unlinked',
  'duplicate_found',
  'activity_logged',
  'status_changed',
  /** A reconcile's report: what it found out of step between the two sides. */
  'drift_found',
] as const;
export type SyncLogAction = (typeof SYNC_LOG_ACTIONS)[number];
