/** The pg-boss queue of immediate pushes: one job per (connection, contact), debounced by its singleton key. */
export const CONTACT_PUSH_QUEUE = 'crm-contact-push';

/** DI token for `ContactPushOptions`. */
export const CONTACT_PUSH_OPTIONS = Symbol('CONTACT_PUSH_OPTIONS');

export interface ContactPushJob {
  connectionId: string;
  tenantId: string;
  contactId: string;
}

export interface ContactPushOptions {
  /**
   * How long a changed contact waits before it is pushed: more edits of it in this time ride along in one write,
   * and edits of other contacts gather into one batch (default 2 s).
   */
  debounceMs?: number;
  /** Most jobs one worker fetch takes, grouped into one push per connection (default 200). */
  batchSize?: number;
  /** How often an idle worker polls (default 0.5 s: the push's latency budget is seconds). */
  pollingIntervalSeconds?: number;
  /** When the connection is busy (a sync holds its lock), the jobs come back after this long (default 5 s). */
  busyRetryMs?: number;
}

export const DEFAULT_CONTACT_PUSH_OPTIONS: Required<ContactPushOptions> = {
  debounceMs: 2_000,
  batchSize: 200,
  pollingIntervalSeconds: 0.5,
  busyRetryMs: 5_000,
};

/** Whether the connection pushes API changes at once: `settings.realtime`, read defensively (stored settings may lack it). */
export function isRealtime(settings: unknown): boolean {
  return (settings as { realtime?: unknown } | null)?.realtime === true;
}
