import { RateLimiter } from './rate-limiter';

describe('RateLimiter', () => {
  let now = 0;
  const at = (ms: number) => {
    now = ms;
  };

  beforeEach(() => at(Date.parse('2024-06-01T12:00:00Z')));

  it('counts without refusing when not enforced, so headers show real remaining values', () => {
    const limiter = new RateLimiter({ limit: 2, windowMs: 2000, now: () => now });
    const decisions = [limiter.take('a'), limiter.take('a'), limiter.take('a')];
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true]);
    expect(decisions.map((d) => d.remaining)).toEqual([1, 0, 0]);
  });

  it('refuses past the rolling window limit and frees a slot when the oldest request leaves the window', () => {
    const limiter = new RateLimiter({ limit: 2, windowMs: 2000, enforce: true, now: () => now });
    const start = now;
    expect(limiter.take('a').allowed).toBe(true);
    at(start + 500);
    expect(limiter.take('a')).toMatchObject({ allowed: true, remaining: 0, resetMs: 1500 });
    at(start + 1000);
    const refused = limiter.take('a');
    expect(refused).toMatchObject({
      allowed: false,
      reason: 'window',
      remaining: 0,
      resetMs: 1000,
      retryAfterMs: 1000,
    });
    expect(limiter.take('b').allowed).toBe(true);
    at(start + 2000);
    expect(limiter.take('a')).toMatchObject({ allowed: true, remaining: 0 });
    expect(limiter.peek('a').windowUsed).toBe(2);
  });

  it('charges the daily allocation by cost and resets it at UTC midnight', () => {
    const limiter = new RateLimiter({ dailyLimit: 100, enforce: true, now: () => now });
    expect(limiter.take('a', 60)).toMatchObject({ allowed: true, dailyRemaining: 40, limit: Infinity });
    const refused = limiter.take('a', 50);
    expect(refused).toMatchObject({ allowed: false, reason: 'daily', dailyRemaining: 40 });
    expect(refused.dailyResetMs).toBe(12 * 3600 * 1000);
    expect(refused.retryAfterMs).toBe(refused.dailyResetMs);
    at(Date.parse('2024-06-02T00:00:01Z'));
    expect(limiter.take('a', 50)).toMatchObject({ allowed: true, dailyRemaining: 50 });
  });

  it('configure() can switch enforcement on and reset usage', () => {
    const limiter = new RateLimiter({ limit: 1, windowMs: 1000, now: () => now });
    limiter.take('a');
    limiter.configure({ limit: 1, windowMs: 1000, enforce: true });
    expect(limiter.take('a').allowed).toBe(false);
    limiter.configure({ limit: 1, windowMs: 1000, enforce: true }, true);
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.config).toEqual({ limit: 1, windowMs: 1000, dailyLimit: undefined, enforce: true });
  });
});
