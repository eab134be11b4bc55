import {
  CrmError,
  CrmErrorCode,
  type PortOperation,
  type RateLimitObservation,
  type RateLimitPolicy,
} from '@pm/integration-port';
import { systemClock, type Clock } from './clock';

/** Who is waiting for the CRM: a user at the screen before an activity log before a background sync. */
export type RatePriority = 'interactive' | 'activity' | 'background';

const PRIORITY_RANK: Readonly<Record<RatePriority, number>> = { interactive: 0, activity: 1, background: 2 };

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

export interface InMemoryRateBudgetOptions {
  clock?: Clock;
  /** Default 'wait'. */
  whenDailyExhausted?: DailyExhaustedBehaviour;
  /** When a used-up daily allocation refills, from now (epoch ms). Default: the next UTC midnight. */
  nextDailyReset?: (nowMs: number) => number;
}

interface WindowBucket {
  kind: 'window';
  capacity: number;
  tokens: number;
  refillPerMs: number;
  refilledAt: number;
}

interface DailyBucket {
  kind: 'daily';
  capacity: number;
  tokens: number;
  resetsAt: number;
}

type Bucket = WindowBucket | DailyBucket;

interface Waiter {
  cost: number;
  rank: number;
  sequence: number;
  whenDailyExhausted: DailyExhaustedBehaviour;
  resolve: () => void;
  reject: (error: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** Token counts are fractional while windows refill; this absorbs the floating-point rest. */
const EPSILON = 1e-9;

export function nextUtcMidnight(nowMs: number): number {
  const date = new Date(nowMs);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
}

/**
 * A token bucket per limit of the connector's capabilities: a rolling window refills continuously at
 * `limit / windowMs`, a daily allocation refills at once at its reset. Waiters are served strictly by priority, then
 * in arrival order, so a background sync never takes the calls an interactive request is waiting for.
 */
export class InMemoryRateBudget implements RateBudget {
  private readonly clock: Clock;
  private readonly buckets: Bucket[];
  private readonly defaultDailyBehaviour: DailyExhaustedBehaviour;
  private readonly nextDailyReset: (nowMs: number) => number;
  private readonly waiters: Waiter[] = [];
  private blockedUntil = 0;
  private sequence = 0;
  private cancelTimer?: () => void;

  constructor(policies: readonly RateLimitPolicy[], options: InMemoryRateBudgetOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.defaultDailyBehaviour = options.whenDailyExhausted ?? 'wait';
    this.nextDailyReset = options.nextDailyReset ?? nextUtcMidnight;
    const now = this.clock.now();
    this.buckets = policies.map((policy): Bucket => {
      if (!(policy.limit > 0)) {
        throw new RangeError(`A rate limit needs a positive limit, got ${policy.limit}`);
      }
      if (policy.kind === 'window') {
        if (!(policy.windowMs > 0)) {
          throw new RangeError(`A rate-limit window needs a positive windowMs, got ${policy.windowMs}`);
        }
        return {
          kind: 'window',
          capacity: policy.limit,
          tokens: policy.limit,
          refillPerMs: policy.limit / policy.windowMs,
          refilledAt: now,
        };
      }
      return {
        kind: 'daily',
        capacity: policy.limit,
        tokens: policy.limit,
        resetsAt: this.nextDailyReset(now),
      };
    });
  }

  acquire(cost: number, priority: RatePriority, options: AcquireOptions = {}): Promise<void> {
    if (!(cost > 0) || !Number.isFinite(cost)) {
      return Promise.reject(new RangeError(`cost must be a positive number, got ${cost}`));
    }
    const tooSmall = this.buckets.find((bucket) => bucket.capacity < cost);
    if (tooSmall) {
      return Promise.reject(
        new RangeError(
          `cost ${cost} exceeds the ${tooSmall.kind} limit of ${tooSmall.capacity}: it can never be granted`,
        ),
      );
    }
    if (options.signal?.aborted) {
      return Promise.reject(abortedError(options.signal));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        cost,
        rank: PRIORITY_RANK[priority],
        sequence: this.sequence++,
        whenDailyExhausted: options.whenDailyExhausted ?? this.defaultDailyBehaviour,
        resolve,
        reject,
        signal: options.signal,
      };
      if (options.signal) {
        const signal = options.signal;
        waiter.onAbort = () => {
          this.remove(waiter);
          reject(abortedError(signal));
          this.drain();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      // Insert after every waiter of the same or a higher priority: priority first, then arrival order.
      const index = this.waiters.findIndex((other) => other.rank > waiter.rank);
      this.waiters.splice(index === -1 ? this.waiters.length : index, 0, waiter);
      this.drain();
    });
  }

  async report(state: RateLimitState): Promise<void> {
    const now = this.clock.now();
    this.refill(now);
    for (const bucket of this.buckets) {
      if (bucket.kind === 'window' && state.windowRemaining !== undefined) {
        bucket.tokens = Math.min(bucket.tokens, Math.max(0, state.windowRemaining));
      }
      if (bucket.kind === 'daily' && state.dailyRemaining !== undefined) {
        bucket.tokens = Math.min(bucket.tokens, Math.max(0, state.dailyRemaining));
        if (state.dailyRemaining <= 0 && state.dailyResetMs !== undefined) {
          bucket.resetsAt = now + Math.max(0, state.dailyResetMs);
        }
      }
    }
    if (state.retryAfterMs !== undefined && state.retryAfterMs > 0) {
      this.blockedUntil = Math.max(this.blockedUntil, now + state.retryAfterMs);
    }
    this.drain();
  }

  /** Calls available now per limit, and how many callers wait: for logs and the admin screen. */
  snapshot(): {
    limits: { kind: 'window' | 'daily'; capacity: number; available: number }[];
    waiting: number;
  } {
    this.refill(this.clock.now());
    return {
      limits: this.buckets.map((bucket) => ({
        kind: bucket.kind,
        capacity: bucket.capacity,
        available: Math.floor(bucket.tokens + EPSILON),
      })),
      waiting: this.waiters.length,
    };
  }

  private refill(now: number): void {
    for (const bucket of this.buckets) {
      if (bucket.kind === 'window') {
        bucket.tokens = Math.min(
          bucket.capacity,
          bucket.tokens + (now - bucket.refilledAt) * bucket.refillPerMs,
        );
        bucket.refilledAt = now;
      } else if (now >= bucket.resetsAt) {
        bucket.tokens = bucket.capacity;
        bucket.resetsAt = this.nextDailyReset(now);
      }
    }
  }

  /** Grants the head waiter while it fits, then sets one timer for when the next can be granted. */
  private drain(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    while (this.waiters.length > 0) {
      const now = this.clock.now();
      this.refill(now);
      const head = this.waiters[0];
      const dailyShort = this.buckets.find(
        (bucket): bucket is DailyBucket => bucket.kind === 'daily' && bucket.tokens + EPSILON < head.cost,
      );
      if (dailyShort && head.whenDailyExhausted === 'signal') {
        this.remove(head);
        head.reject(
          new CrmError(CrmErrorCode.QUOTA_EXHAUSTED, 'The daily API allocation is used up until it refills', {
            retryAfterMs: dailyShort.resetsAt - now,
          }),
        );
        continue;
      }
      const waitMs = this.waitFor(head.cost, now);
      if (waitMs > 0) {
        this.cancelTimer = this.clock.setTimer(() => {
          this.cancelTimer = undefined;
          this.drain();
        }, waitMs);
        return;
      }
      for (const bucket of this.buckets) {
        bucket.tokens = Math.max(0, bucket.tokens - head.cost);
      }
      this.remove(head);
      head.resolve();
    }
  }

  /** Milliseconds until `cost` calls fit in every limit (0: now). */
  private waitFor(cost: number, now: number): number {
    let waitMs = Math.max(0, this.blockedUntil - now);
    for (const bucket of this.buckets) {
      if (bucket.tokens + EPSILON >= cost) {
        continue;
      }
      const bucketWait =
        bucket.kind === 'window'
          ? (cost - bucket.tokens) / bucket.refillPerMs
          : Math.max(0, bucket.resetsAt - now);
      waitMs = Math.max(waitMs, bucketWait);
    }
    // Whole milliseconds, at least 1 when anything is short, so the timer never fires before the tokens exist.
    return waitMs > 0 ? Math.max(1, Math.ceil(waitMs)) : 0;
  }

  private remove(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index !== -1) {
      this.waiters.splice(index, 1);
    }
    if (waiter.signal && waiter.onAbort) {
      waiter.signal.removeEventListener('abort', waiter.onAbort);
    }
  }
}

function abortedError(signal: AbortSignal): CrmError {
  return new CrmError(CrmErrorCode.ABORTED, 'Aborted while waiting for the rate budget', {
    cause: signal.reason,
  });
}
