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
] as const;
export type SyncLogAction = (typeof SYNC_LOG_ACTIONS)[number];
