import { normaliseEmail } from '@pm/domain';
import type { Request, Response } from 'express';

export interface LoginThrottlePolicy {
  /** Wrong passwords per account and address before a backoff starts. */
  freeAttempts: number;
  /** The first backoff; each further wrong password doubles it. */
  baseDelayMs: number;
  /** The longest backoff: a correct password is never refused for longer. */
  maxDelayMs: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottlePolicy = {
  freeAttempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 15 * 60_000,
};

interface Attempts {
  failures: number;
  blockedUntil: number;
  lastFailureAt: number;
}

export type LoginDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * Login throttling per account and address (e-mail + client IP), with exponential backoff. Only wrong passwords
 * count; a correct one clears the count. While a backoff runs every attempt for that account from that address is
 * answered 429 with Retry-After (without checking the password, so guessing is pointless); once it ends, a correct
 * password logs in. Another address, or another account from this address, is not affected. In memory, per process.
 */
export class LoginThrottle {
  private readonly attempts = new Map<string, Attempts>();

  constructor(
    private readonly policy: LoginThrottlePolicy = DEFAULT_LOGIN_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {}

  check(email: string, address: string): LoginDecision {
    const entry = this.attempts.get(this.key(email, address));
    const wait = entry ? entry.blockedUntil - this.now() : 0;
    return wait > 0 ? { allowed: false, retryAfterMs: wait } : { allowed: true };
  }

  recordFailure(email: string, address: string): void {
    const key = this.key(email, address);
    const now = this.now();
    const entry = this.attempts.get(key) ?? { failures: 0, blockedUntil: 0, lastFailureAt: now };
    // A quiet day forgives old mistakes.
    if (now - entry.lastFailureAt > 24 * 60 * 60_000) entry.failures = 0;
    entry.failures += 1;
    entry.lastFailureAt = now;
    const over = entry.failures - this.policy.freeAttempts;
    if (over > 0) {
      const delay = Math.min(this.policy.baseDelayMs * 2 ** Math.min(over - 1, 30), this.policy.maxDelayMs);
      entry.blockedUntil = now + delay;
    }
    this.attempts.set(key, entry);
    this.prune(now);
  }

  recordSuccess(email: string, address: string): void {
    this.attempts.delete(this.key(email, address));
  }

  /**
   * Wraps an AdminJS `authenticate`: refuses throttled attempts with 429 and Retry-After (AdminJS renders its
   * "too many requests" login page; the status is set here), and counts the outcome of the others.
   */
  guard<T>(
    authenticate: (email: string, password: string) => Promise<T | null>,
  ): (email: string, password: string, context?: { req?: Request; res?: Response }) => Promise<T | null> {
    return async (email, password, context) => {
      const address = context?.req?.ip ?? 'unknown';
      const account = typeof email === 'string' ? email : '';
      const decision = this.check(account, address);
      if (!decision.allowed) {
        const res = context?.res;
        if (res) {
          const seconds = String(Math.ceil(decision.retryAfterMs / 1000));
          const send = res.send.bind(res);
          // AdminJS answers a thrown error with status 400 and its login page; this answer is a 429.
          res.send = (body?: unknown) => {
            res.status(429).setHeader('Retry-After', seconds);
            return send(body);
          };
        }
        throw new Error('tooManyRequests');
      }
      const admin = await authenticate(account, typeof password === 'string' ? password : '');
      if (admin) this.recordSuccess(account, address);
      else this.recordFailure(account, address);
      return admin;
    };
  }

  private key(email: string, address: string): string {
    return `${normaliseEmail(email)}\u0000${address}`;
  }

  private prune(now: number): void {
    if (this.attempts.size < 10_000) return;
    for (const [key, entry] of this.attempts) {
      if (entry.blockedUntil < now && now - entry.lastFailureAt > 60 * 60_000) this.attempts.delete(key);
    }
  }
}
