/** Counts per direction and object: `counts['from_crm']['Contact'].created`. */
export interface SyncCounts {
  created: number;
  updated: number;
  skipped: number;
  conflicts: number;
  errors: number;
  deleted: number;
}
export type SyncRunCounts = Record<string, Record<string, SyncCounts>>;
