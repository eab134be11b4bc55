/**
 * Rolling-window and daily request allocation per account, as the CRMs document them (HubSpot per 10 s, Pipedrive
 * per 2 s plus a daily token budget, Salesforce a daily allocation). The CRM module turns a `RateLimitDecision`
 * into its own headers and 429/403 bodies.
 *
 * Runs on real time (not the SandboxClock) on purpose: a test that freezes the sandbox clock to stage identical
 * timestamps must not freeze the rate-limit windows too.
 */
export interface RateLimiterOptions {
  /** Requests allowed per rolling window; omit for no window limit. */
  limit?: number;
  windowMs?: number;
  /** Allocation per UTC day (request count or, for Pipedrive, token cost); omit for none. */
  dailyLimit?: number;
  /**
   * When false, requests are counted (so headers show real remaining values) but never refused. Off by default,
   * so tests only see 429s when they ask for them.
   */
  enforce?: boolean;
  /** Time source in epoch ms; Date.now by default. */
  now?: () => number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Which limit refused the request; undefined when allowed. */
  reason?: 'window' | 'daily';
  /** Window limit (Infinity when there is none). */
  limit: number;
  /** Requests left in the current window after this one (never negative). */
  remaining: number;
  /** Milliseconds until the window frees a slot (0 when a slot is free). */
  resetMs: number;
  windowMs: number;
  dailyLimit: number;
  dailyRemaining: number;
  /** Milliseconds until the daily allocation resets (next UTC midnight). */
  dailyResetMs: number;
  /** Suggested wait before retrying when refused (ms), 0 when allowed. */
  retryAfterMs: number;
}

interface AccountUsage {
  /** Timestamps (ms) of requests in the current window, oldest first. */
  window: number[];
  dayStartMs: number;
  dailyUsed: number;
}

const DAY_MS = 86_400_000;

export class RateLimiter {
  private options: Required<Omit<RateLimiterOptions, 'limit' | 'dailyLimit'>> & {
    limit: number;
    dailyLimit: number;
  };
  private readonly usage = new Map<string, AccountUsage>();

  constructor(options: RateLimiterOptions = {}) {
    this.options = RateLimiter.normalize(options);
  }

  private static normalize(options: RateLimiterOptions): RateLimiter['options'] {
    return {
      limit: options.limit ?? Number.POSITIVE_INFINITY,
      windowMs: options.windowMs ?? 10_000,
      dailyLimit: options.dailyLimit ?? Number.POSITIVE_INFINITY,
      enforce: options.enforce ?? false,
      now: options.now ?? Date.now,
    };
  }

  /** Replaces the limits (keeps usage counted so far unless `resetUsage`). */
  configure(options: RateLimiterOptions, resetUsage = false): void {
    this.options = RateLimiter.normalize({ now: this.options.now, ...options });
    if (resetUsage) this.reset();
  }

  get config(): Readonly<RateLimiterOptions> {
    const { limit, windowMs, dailyLimit, enforce } = this.options;
    return {
      limit: Number.isFinite(limit) ? limit : undefined,
      windowMs,
      dailyLimit: Number.isFinite(dailyLimit) ? dailyLimit : undefined,
      enforce,
    };
  }

  get enforcing(): boolean {
    return this.options.enforce;
  }

  /**
   * Counts one request for `account` (costing `dailyCost` of the daily allocation) and says whether it may run.
   * A refused request consumes nothing.
   */
  take(account: string, dailyCost = 1): RateLimitDecision {
    const now = this.options.now();
    const usage = this.usageFor(account, now);
    const { limit, windowMs, dailyLimit, enforce } = this.options;
    const windowFull = usage.window.length >= limit;
    const dailyExhausted = usage.dailyUsed + dailyCost > dailyLimit;
    const refused = enforce && (windowFull || dailyExhausted);
    if (!refused) {
      if (Number.isFinite(limit)) usage.window.push(now);
      usage.dailyUsed += dailyCost;
    }
    const dailyResetMs = usage.dayStartMs + DAY_MS - now;
    const resetMs = usage.window.length >= limit ? usage.window[0] + windowMs - now : 0;
    const reason = refused ? (dailyExhausted ? 'daily' : 'window') : undefined;
    return {
      allowed: !refused,
      reason,
      limit,
      remaining: Math.max(0, limit - usage.window.length),
      resetMs: Math.max(0, resetMs),
      windowMs,
      dailyLimit,
      dailyRemaining: Math.max(0, dailyLimit - usage.dailyUsed),
      dailyResetMs,
      retryAfterMs: reason === 'daily' ? dailyResetMs : reason === 'window' ? Math.max(1, resetMs) : 0,
    };
  }

  /** Current usage without counting a request. */
  peek(account: string): { windowUsed: number; dailyUsed: number } {
    const usage = this.usageFor(account, this.options.now());
    return { windowUsed: usage.window.length, dailyUsed: usage.dailyUsed };
  }

  reset(account?: string): void {
    if (account === undefined) this.usage.clear();
    else this.usage.delete(account);
  }

  private usageFor(account: string, now: number): AccountUsage {
    const dayStartMs = now - (now % DAY_MS);
    let usage = this.usage.get(account);
    if (!usage) {
      usage = { window: [], dayStartMs, dailyUsed: 0 };
      this.usage.set(account, usage);
    }
    if (usage.dayStartMs !== dayStartMs) {
      usage.dayStartMs = dayStartMs;
      usage.dailyUsed = 0;
    }
    const windowStart = now - this.options.windowMs;
    let expired = 0;
    while (expired < usage.window.length && usage.window[expired] <= windowStart) expired++;
    if (expired > 0) usage.window.splice(0, expired);
    return usage;
  }
}
