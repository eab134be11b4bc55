import type { PortOperation, RateLimitObservation } from '@pm/integration-port';

/** Who is waiting for the CRM: a user at the screen before an activity log before a background sync. */
export type RatePriority = 'interactive' | 'activity' | 'background';

/** What the CRM said about its limits in a response's headers (see `parseRateLimitHeaders`). */
export type RateLimitState = RateLimitObservation;

/** What to do when the daily allocation is used up: wait for the refill, or reject with QUOTA_EXHAUSTED. */
export type DailyExhaustedBehaviour = 'wait' | 'signal';

export interface AcquireOptions {
  signal?: AbortSignal;
  /** The port operation the calls serve: only the limits governing it are charged. Absent: every limit. */
  operation?: PortOperation;
  /** Overrides the budget's default, e.g. a user at the screen wants an answer now, not tomorrow. */
  whenDailyExhausted?: DailyExhaustedBehaviour;
}

/**
 * One connection's share of a CRM's limits. `acquire` resolves when `cost` calls may be made; the caller makes them
 * and then `report`s what the response headers said, so the budget follows the CRM's own count (other clients of the
 * same account spend it too). Kept small so a PostgreSQL-backed budget shared by workers can implement it.
 */
/**
 * Calls a shared budget granted and counts as in flight: they stay in every window until `settle` says the call has
 * ended, since a CRM counts a request when it arrives, which may be well after the grant.
 */
export interface RateGrant {
  settle(): Promise<void>;
}

export interface RateBudget {
  /** Resolves when `cost` calls may be made; a budget that tracks calls in flight returns their grant to settle. */
  acquire(cost: number, priority: RatePriority, options?: AcquireOptions): Promise<void | RateGrant>;
  report(state: RateLimitState): Promise<void>;
  /**
   * The largest cost one `acquire` at `priority` can ever be granted for `operation` (a window's limit, or this
   * priority's share of it); callers split larger work so that no single grant waits for a window that never comes.
   * Absent: no limit known.
   */
  largestGrant?(priority: RatePriority, operation?: PortOperation): number;
}

export function nextUtcMidnight(nowMs: number): number {
  const date = new Date(nowMs);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
}
