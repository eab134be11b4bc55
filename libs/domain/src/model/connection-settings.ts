// Plain types and constants of a connection's sync settings: no ORM here, so the engine can import them.

/** Sync health, separate from the OAuth status: a connected connection may be degraded or paused. */
export const CONNECTION_HEALTH = ['healthy', 'degraded', 'paused'] as const;
export type ConnectionHealth = (typeof CONNECTION_HEALTH)[number];

export const SYNC_DIRECTIONS = ['bidirectional', 'to_crm', 'from_crm'] as const;
export type SyncDirection = (typeof SYNC_DIRECTIONS)[number];

export const CONFLICT_POLICIES = ['crm_wins', 'penguinmails_wins', 'most_recent'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];

export const SYNC_FREQUENCIES = ['every_5_minutes', 'every_15_minutes', 'hourly', 'daily', 'manual'] as const;
export type SyncFrequency = (typeof SYNC_FREQUENCIES)[number];

/** What the seed's Configuration page edits. Object names are the CRM's own (data, not an enum). */
export interface ConnectionSettings {
  objects: string[];
  direction: SyncDirection;
  conflictPolicy: ConflictPolicy;
  frequency: SyncFrequency;
  activityLogging: boolean;
  /** Delete on the other side when a record is deleted on one side; off: unlink and log only. */
  propagateDeletes: boolean;
  /**
   * An e-mail event whose contact is not in the CRM creates it there (matched by e-mail first, never a duplicate);
   * off: the event is held until a sync links the contact. Absent on connections stored before it: off.
   */
  createMissingContacts?: boolean;
  /**
   * Real-time: the CRM's change events (webhooks, change data capture) start a targeted sync of the records they
   * name, within seconds, beside the scheduled sync. Absent on connections stored before it: off.
   */
  realtime?: boolean;
}

export const DEFAULT_CONNECTION_SETTINGS: ConnectionSettings = {
  objects: [],
  direction: 'bidirectional',
  conflictPolicy: 'crm_wins',
  frequency: 'every_15_minutes',
  activityLogging: true,
  propagateDeletes: false,
  createMissingContacts: false,
  realtime: false,
};
