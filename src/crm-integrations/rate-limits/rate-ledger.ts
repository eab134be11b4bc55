import { nextUtcMidnight, type RateLimitState, type RatePriority } from '@pm/connector-kit';
import type { PortOperation, RateLimitPolicy } from '@pm/integration-port';

/**
 * The rate budget's arithmetic, apart from where it is stored: which of a CRM's limits a call spends from, whether a
 * cost fits now (and if not, for how long to wait), and what a response's headers change. Pure, so every rule is
 * testable without a database or a clock.
 */

/**
 * Across processes there is no single queue to order waiters by priority, so each priority may spend only its
 * share of a window: background work leaves room for activity delivery, and both leave room for a user's
 * "Sync now" or a connect flow.
 */
export const PRIORITY_SHARE: Readonly<Record<RatePriority, number>> = {
  interactive: 1,
  activity: 0.9,
  background: 0.75,
};

/** One rolling window of a CRM (HubSpot's 110 calls per 10 s, its search's 5 per second) and what it governs. */
export interface WindowLimit {
  /** Names the window's log in the ledger: stable while the policy is. */
  id: string;
  limit: number;
  windowMs: number;
  governs?: readonly PortOperation[];
}

export interface RateLimits {
  windows: WindowLimit[];
  /** `spreadBurst`: the allocation is spent no faster than its even spread, this many calls at a time. */
  daily?: { limit: number; governs?: readonly PortOperation[]; spreadBurst?: number };
}

/**
 * One account's spend: grant times per window, the day's count, the allocation the CRM last reported (null: none
 * yet, the declared one applies), and a pause the CRM asked for.
 */
export interface Ledger {
  grants: Record<string, number[]>;
  dayStartedAt: number | null;
  dailyUsed: number;
  dailyLimit: number | null;
  pausedUntil: number | null;
}

const DAY_MS = 86_400_000;

/** One request in this many of a spread's burst is kept for requests no call is charged. */
const SPREAD_UNCHARGED_SHARE = 20;

/** Names the log of the daily allocation's spread window (its length follows the allocation, its id does not). */
export const DAILY_SPREAD_WINDOW_ID = 'daily-spread';

/** The allocation in force: the one the CRM last reported, else the declared one. */
function allocation(limits: RateLimits, ledger: Pick<Ledger, 'dailyLimit'> | null): number | undefined {
  if (!limits.daily) return undefined;
  return ledger?.dailyLimit ?? limits.daily.limit;
}

/**
 * The windows a call is checked against: the CRM's own, and the daily allocation's even spread where the policy
 * asks for one (`burst` calls per the time the allocation takes to give that many at an even pace).
 */
export function windowsOf(limits: RateLimits, ledger: Pick<Ledger, 'dailyLimit'> | null): WindowLimit[] {
  const burst = limits.daily?.spreadBurst;
  if (!limits.daily || burst === undefined) return limits.windows;
  const perDay = allocation(limits, ledger)!;
  return [
    ...limits.windows,
    {
      id: DAILY_SPREAD_WINDOW_ID,
      // A twentieth of each burst is left for requests no call is charged (the describe a connector makes before
      // an object's first write), so the even spread holds even with them.
      limit: burst - Math.ceil(burst / SPREAD_UNCHARGED_SHARE),
      windowMs: Math.ceil((burst * DAY_MS) / perDay),
      governs: limits.daily.governs,
    },
  ];
}

export type Decision =
  | { granted: true; ledger: Ledger }
  | { granted: false; waitMs: number; dailyExhausted: boolean };

export function rateLimits(policies: readonly RateLimitPolicy[]): RateLimits {
  const limits: RateLimits = { windows: [] };
  for (const policy of policies) {
    if (!(policy.limit > 0)) throw new RangeError(`A rate limit needs a positive limit, got ${policy.limit}`);
    if (policy.kind === 'daily') {
      const burst = policy.spread?.burst;
      if (burst !== undefined && !(Number.isInteger(burst) && burst > 0)) {
        throw new RangeError(`A daily spread needs a positive whole burst, got ${burst}`);
      }
      limits.daily = { limit: policy.limit, governs: policy.governs, spreadBurst: burst };
      continue;
    }
    if (!(policy.windowMs > 0)) {
      throw new RangeError(`A rate-limit window needs a positive windowMs, got ${policy.windowMs}`);
    }
    const scope = policy.governs ? `:${[...policy.governs].sort().join('+')}` : '';
    limits.windows.push({
      id: `${policy.limit}/${policy.windowMs}${scope}`,
      limit: policy.limit,
      windowMs: policy.windowMs,
      governs: policy.governs,
    });
  }
  return limits;
}

/** A limit without `governs` counts every call; an acquire that names no operation is charged to every limit. */
function governs(limit: { governs?: readonly PortOperation[] }, operation?: PortOperation): boolean {
  return limit.governs === undefined || operation === undefined || limit.governs.includes(operation);
}

function share(window: WindowLimit, priority: RatePriority): number {
  return Math.max(1, Math.floor(window.limit * PRIORITY_SHARE[priority]));
}

/** The largest cost one grant can ever be for `operation` at `priority`. */
export function largestGrant(limits: RateLimits, priority: RatePriority, operation?: PortOperation): number {
  let largest = Number.POSITIVE_INFINITY;
  for (const window of windowsOf(limits, null)) {
    if (governs(window, operation)) largest = Math.min(largest, share(window, priority));
  }
  if (limits.daily && governs(limits.daily, operation)) largest = Math.min(largest, limits.daily.limit);
  return largest;
}

/** Refuses, with the limit named, a cost no window could ever grant (waiting for it would never end). */
export function assertGrantable(
  limits: RateLimits,
  cost: number,
  priority: RatePriority,
  operation?: PortOperation,
): void {
  if (!(cost > 0) || !Number.isInteger(cost)) {
    throw new RangeError(`A rate-budget cost must be a positive whole number of calls, got ${cost}`);
  }
  for (const window of windowsOf(limits, null)) {
    if (governs(window, operation) && cost > share(window, priority)) {
      throw new RangeError(
        `${cost} calls${operation ? ` of ${operation}` : ''} exceed what the ${window.limit}-per-${window.windowMs}-ms ` +
          `limit grants at once at ${priority} priority (${share(window, priority)}): split the work into smaller calls`,
      );
    }
  }
  if (limits.daily && governs(limits.daily, operation) && cost > limits.daily.limit) {
    throw new RangeError(`${cost} calls exceed the daily allocation of ${limits.daily.limit}`);
  }
}

/** Grants `cost` calls if every limit governing `operation` has room for this priority now; else how long to wait. */
export function decide(
  limits: RateLimits,
  ledger: Ledger,
  request: { cost: number; priority: RatePriority; operation?: PortOperation; stampAt?: number },
  nowMs: number,
): Decision {
  const { cost, priority, operation } = request;
  const stampAt = request.stampAt ?? nowMs;
  if (ledger.pausedUntil !== null && ledger.pausedUntil > nowMs) {
    return { granted: false, waitMs: ledger.pausedUntil - nowMs, dailyExhausted: false };
  }
  const current = rolled(limits, ledger, nowMs);
  const windows = windowsOf(limits, current);
  if (
    limits.daily &&
    governs(limits.daily, operation) &&
    current.dailyUsed + cost > allocation(limits, current)!
  ) {
    return { granted: false, waitMs: nextUtcMidnight(nowMs) - nowMs, dailyExhausted: true };
  }
  let waitMs = 0;
  for (const window of windows) {
    if (!governs(window, operation)) continue;
    const grants = current.grants[window.id];
    const allowed = share(window, priority);
    if (grants.length + cost > allowed) {
      // The grant that must leave the window before `cost` more fit (cost ≤ allowed, so it exists).
      const freeing = grants[grants.length + cost - allowed - 1];
      waitMs = Math.max(waitMs, freeing + window.windowMs - nowMs + 1);
    }
  }
  if (waitMs > 0) return { granted: false, waitMs, dailyExhausted: false };
  for (const window of windows) {
    if (governs(window, operation)) {
      current.grants[window.id].push(...Array<number>(cost).fill(stampAt));
    }
  }
  if (limits.daily && governs(limits.daily, operation)) current.dailyUsed += cost;
  current.pausedUntil = null;
  return { granted: true, ledger: current };
}

/** The grants stamped `stampAt` (calls in flight) restamped `nowMs`: the call ended, they leave one window later. */
export function settle(limits: RateLimits, ledger: Ledger, stampAt: number, nowMs: number): Ledger {
  const next = rolled(limits, ledger, nowMs);
  for (const window of windowsOf(limits, next)) {
    next.grants[window.id] = next.grants[window.id]
      .map((at) => (at === stampAt ? Math.min(at, nowMs) : at))
      .sort((a, b) => a - b);
  }
  return next;
}

/**
 * What a response's headers change: the CRM counted more calls than we granted (another client of the account), a
 * higher daily use, or a Retry-After. A window's count goes only to the window it describes (matched by its length,
 * else its limit), never to a shorter one. Null: nothing new.
 */
export function observe(
  limits: RateLimits,
  ledger: Ledger,
  state: RateLimitState,
  nowMs: number,
): Ledger | null {
  const next = rolled(limits, ledger, nowMs);
  let changed = false;
  const window = describedWindow(limits, state);
  if (window && state.windowRemaining !== undefined) {
    const counted = (state.windowLimit ?? window.limit) - Math.max(0, state.windowRemaining);
    const grants = next.grants[window.id];
    if (counted > grants.length) {
      grants.push(...Array<number>(counted - grants.length).fill(nowMs));
      changed = true;
    }
  }
  // The account's own allocation (a Salesforce org's edition × licences), which also sets the spread's pace.
  if (
    limits.daily &&
    state.dailyLimit !== undefined &&
    state.dailyLimit > 0 &&
    state.dailyLimit !== next.dailyLimit
  ) {
    next.dailyLimit = state.dailyLimit;
    changed = true;
  }
  if (limits.daily && state.dailyLimit !== undefined && state.dailyRemaining !== undefined) {
    const counted = state.dailyLimit - state.dailyRemaining;
    if (counted > next.dailyUsed) {
      next.dailyUsed = counted;
      changed = true;
    }
  }
  if (state.retryAfterMs !== undefined && state.retryAfterMs > 0) {
    const until = nowMs + state.retryAfterMs;
    if (next.pausedUntil === null || until > next.pausedUntil) {
      next.pausedUntil = until;
      changed = true;
    }
  }
  return changed ? next : null;
}

function describedWindow(limits: RateLimits, state: RateLimitState): WindowLimit | undefined {
  const { windows } = limits;
  if (state.windowMs !== undefined) {
    const sameLength = windows.filter((window) => window.windowMs === state.windowMs);
    return sameLength.find((window) => window.limit === state.windowLimit) ?? sameLength[0];
  }
  if (state.windowLimit !== undefined) {
    const sameLimit = windows.find((window) => window.limit === state.windowLimit);
    if (sameLimit) return sameLimit;
  }
  // Headers that name neither: only an account with a single window can say which one they mean.
  return windows.length === 1 ? windows[0] : undefined;
}

/** A copy with expired grants dropped, unknown windows added, and the day rolled over at UTC midnight. */
function rolled(limits: RateLimits, ledger: Ledger, nowMs: number): Ledger {
  const grants: Record<string, number[]> = {};
  for (const window of windowsOf(limits, ledger)) {
    const since = nowMs - window.windowMs;
    grants[window.id] = (ledger.grants[window.id] ?? []).filter((at) => at > since).sort((a, b) => a - b);
  }
  let dayStartedAt = ledger.dayStartedAt ?? startOfUtcDay(nowMs);
  let dailyUsed = ledger.dailyUsed;
  if (nowMs >= nextUtcMidnight(dayStartedAt)) {
    dayStartedAt = startOfUtcDay(nowMs);
    dailyUsed = 0;
  }
  return { grants, dayStartedAt, dailyUsed, dailyLimit: ledger.dailyLimit, pausedUntil: ledger.pausedUntil };
}

function startOfUtcDay(nowMs: number): number {
  const date = new Date(nowMs);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
}
