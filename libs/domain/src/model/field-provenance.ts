/** Which side a synced value came from, and by which rule it won. */
export interface FieldProvenance {
  /** The value both sides held after the last sync (the base of the three-way comparison). */
  value: unknown;
  side: 'penguinmails' | 'crm';
  at: string;
  rule: 'only_changed_side' | 'crm_wins' | 'penguinmails_wins' | 'most_recent' | 'initial';
  runId?: string;
}
