import type { RateLimitObservation } from '@pm/integration-port';

/** Who is waiting for the CRM: a user at the screen before an activity log before a background sync. */
export type RatePriority = 'interactive' | 'activity' | 'background';

/** What the CRM said about its limits in a response's headers (see `parseRateLimitHeaders`). */
export type RateLimitState = RateLimitObservation;

/** What to do when the daily allocation is used up: wait for the refill, or reject with QUOTA_EXHAUSTED. */
export type DailyExhaustedBehaviour = 'wait' | 'signal';

export interface AcquireOptions {
  signal?: AbortSignal;
  /** Overrides the budget's default, e.g. a user at the screen wants an answer now, not tomorrow. */
  whenDailyExhausted?: DailyExhaustedBehaviour;
}

/**
 * One connection's share of a CRM's limits. `acquire` resolves when `cost` calls may be made; the caller makes them
 * and then `report`s what the response headers said, so the budget follows the CRM's own count (other clients of the
 * same account spend it too). Kept small so a PostgreSQL-backed budget shared by workers can implement it.
 */
export interface RateBudget {
  acquire(cost: number, priority: RatePriority, options?: AcquireOptions): Promise<void>;
  report(state: RateLimitState): Promise<void>;
}

export function nextUtcMidnight(nowMs: number): number {
  const date = new Date(nowMs);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
}
