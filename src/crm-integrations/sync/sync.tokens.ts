/**
 * DI token for the engine's `SessionProvider` (the token vault binds it: issue 5). Unbound, runs fail with a
 * clear reason instead of the app failing to start.
 */
export const SYNC_SESSION_PROVIDER = Symbol('SYNC_SESSION_PROVIDER');

/** DI token for `SyncQueueOptions`. */
export const SYNC_QUEUE_OPTIONS = Symbol('SYNC_QUEUE_OPTIONS');

/** The pg-boss queue all contact sync jobs go through. */
export const CONTACT_SYNC_QUEUE = 'crm-contact-sync';

export interface ContactSyncJob {
  connectionId: string;
  tenantId: string;
  runId: string;
}
