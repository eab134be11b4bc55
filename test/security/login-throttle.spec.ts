import { LoginThrottle } from '../../src/crm-integrations/admin/admin-login-throttle';

/** Issue 14, hole 6: login throttling per account and address, with backoff, on a controllable clock. */
describe('LoginThrottle', () => {
  let now: number;
  const clock = () => now;
  const policy = { freeAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 15 * 60_000 };
  const admin = { email: 'ops@acme.example' };
  const login = (throttle: LoginThrottle, password: string, ip = '203.0.113.7', email = admin.email) =>
    throttle.guard(async (_email, given) => (given === 'right-password' ? admin : null))(email, password, {
      req: { ip } as never,
    });

  beforeEach(() => {
    now = Date.parse('2026-12-05T12:00:00Z');
  });

  it('after 50 wrong passwords refuses the right one only until the backoff ends, then lets it in', async () => {
    const throttle = new LoginThrottle(policy, clock);
    for (let i = 0; i < 50; i += 1) {
      await login(throttle, 'wrong').catch(() => undefined);
      now += 60 * 60_000; // an attacker patient enough to wait out every backoff
    }
    await login(throttle, 'wrong').catch(() => undefined);
    await expect(login(throttle, 'right-password')).rejects.toThrow('tooManyRequests');
    const decision = throttle.check(admin.email, '203.0.113.7');
    expect(decision).toEqual({ allowed: false, retryAfterMs: policy.maxDelayMs });
    now += policy.maxDelayMs;
    await expect(login(throttle, 'right-password')).resolves.toBe(admin);
    // A success clears the count: one more mistake is free again.
    await login(throttle, 'wrong');
    expect(throttle.check(admin.email, '203.0.113.7')).toEqual({ allowed: true });
  });

  it('backs off exponentially after the free attempts, per account and address', async () => {
    const throttle = new LoginThrottle(policy, clock);
    const waits: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      await login(throttle, 'wrong');
      const decision = throttle.check(admin.email, '203.0.113.7');
      waits.push(decision.allowed ? 0 : decision.retryAfterMs);
      now += decision.allowed ? 0 : decision.retryAfterMs;
    }
    expect(waits).toEqual([0, 0, 0, 0, 0, 1_000, 2_000, 4_000]);
    // The same account from another address, and another account from this one, are not throttled.
    await login(throttle, 'wrong');
    expect(throttle.check(admin.email, '203.0.113.7')).toEqual({ allowed: false, retryAfterMs: 8_000 });
    expect(throttle.check(admin.email, '198.51.100.1')).toEqual({ allowed: true });
    await expect(login(throttle, 'right-password', '198.51.100.1')).resolves.toBe(admin);
    expect(throttle.check('someone-else@acme.example', '203.0.113.7')).toEqual({ allowed: true });
  });

  it('never counts successful logins', async () => {
    const throttle = new LoginThrottle(policy, clock);
    for (let i = 0; i < 100; i += 1) await expect(login(throttle, 'right-password')).resolves.toBe(admin);
    expect(throttle.check(admin.email, '203.0.113.7')).toEqual({ allowed: true });
  });
});
