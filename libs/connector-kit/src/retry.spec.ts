import { CrmError, CrmErrorCode } from '@pm/integration-port';
import { abortableSleep, shouldRetry, withRetry, type RetryEvent, type RetryPolicy } from './retry';

const policy: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 4_000,
  maxWaitMs: 60_000,
  random: () => 0.5,
};
const error = (code: CrmErrorCode, options: { retryAfterMs?: number } = {}) =>
  new CrmError(code, `CRM said ${code}`, options);

describe('shouldRetry', () => {
  it('waits exactly what Retry-After asks for a rate limit', () => {
    expect(shouldRetry(error(CrmErrorCode.RATE_LIMITED, { retryAfterMs: 7_000 }), 1, policy)).toMatchObject({
      retry: true,
      waitMs: 7_000,
      refreshAuth: false,
    });
  });

  it('does not hold a worker for a Retry-After beyond maxWaitMs, but says how long to defer', () => {
    expect(
      shouldRetry(error(CrmErrorCode.RATE_LIMITED, { retryAfterMs: 3_600_000 }), 1, policy),
    ).toMatchObject({
      retry: false,
      waitMs: 3_600_000,
    });
  });

  it('backs off exponentially with full jitter for unavailable, timeout and a rate limit without Retry-After', () => {
    const waits = [1, 2, 3, 4].map(
      (attempt) => shouldRetry(error(CrmErrorCode.CRM_UNAVAILABLE), attempt, policy).waitMs,
    );
    // Half of the ceiling 500, 1000, 2000, then capped at maxDelayMs 4000.
    expect(waits).toEqual([250, 500, 1000, 2000]);
    expect(shouldRetry(error(CrmErrorCode.TIMEOUT), 4, { ...policy, random: () => 0.999 }).waitMs).toBe(
      3_996,
    );
    expect(shouldRetry(error(CrmErrorCode.TIMEOUT), 1, { ...policy, random: () => 0 }).waitMs).toBe(0);
    expect(shouldRetry(error(CrmErrorCode.RATE_LIMITED), 2, policy)).toMatchObject({
      retry: true,
      waitMs: 500,
    });
  });

  it('retries an expired token once, flagged so the caller refreshes first', () => {
    expect(shouldRetry(error(CrmErrorCode.AUTH_EXPIRED), 1, policy)).toMatchObject({
      retry: true,
      refreshAuth: true,
    });
    expect(shouldRetry(error(CrmErrorCode.AUTH_EXPIRED), 2, policy, { authRefreshes: 1 })).toMatchObject({
      retry: false,
    });
  });

  it('pauses instead of retrying when the daily quota is exhausted', () => {
    expect(
      shouldRetry(error(CrmErrorCode.QUOTA_EXHAUSTED, { retryAfterMs: 30_000 }), 1, policy),
    ).toMatchObject({
      retry: false,
      pause: true,
      waitMs: 30_000,
    });
  });

  it.each([
    CrmErrorCode.VALIDATION_FAILED,
    CrmErrorCode.NOT_FOUND,
    CrmErrorCode.DUPLICATE,
    CrmErrorCode.AUTH_REVOKED,
    CrmErrorCode.PERMISSION_DENIED,
    CrmErrorCode.ABORTED,
  ])('never retries %s', (code) => {
    expect(shouldRetry(error(code), 1, policy)).toMatchObject({ retry: false, pause: false });
  });

  it('stops at maxAttempts and does not retry errors that are not CrmErrors', () => {
    expect(shouldRetry(error(CrmErrorCode.CRM_UNAVAILABLE), 5, policy).retry).toBe(false);
    expect(shouldRetry(new TypeError('x is undefined'), 1, policy).retry).toBe(false);
  });
});

describe('withRetry', () => {
  it('waits what Retry-After says between attempts and returns the eventual result', async () => {
    const waits: number[] = [];
    const events: RetryEvent[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        if (++calls < 3) throw error(CrmErrorCode.RATE_LIMITED, { retryAfterMs: 2_000 });
        return 'ok';
      },
      { policy, sleep: async (ms) => void waits.push(ms), onRetry: (event) => events.push(event) },
    );
    expect(result).toBe('ok');
    expect(waits).toEqual([2_000, 2_000]);
    expect(events.map((event) => event.attempt)).toEqual([1, 2]);
  });

  it('gives up after maxAttempts and rethrows the last error unchanged', async () => {
    const failures = Array.from({ length: 5 }, () => error(CrmErrorCode.CRM_UNAVAILABLE));
    let calls = 0;
    const attempt = withRetry(
      async () => {
        throw failures[calls++];
      },
      { policy, sleep: async () => undefined },
    );
    await expect(attempt).rejects.toBe(failures[4]);
    expect(calls).toBe(5);
  });

  it('refreshes the token once on AUTH_EXPIRED and gives up if the new token is rejected too', async () => {
    let refreshes = 0;
    let calls = 0;
    const ok = await withRetry(
      async () => {
        if (++calls === 1) throw error(CrmErrorCode.AUTH_EXPIRED);
        return calls;
      },
      { policy, refreshAuth: async () => void refreshes++ },
    );
    expect([ok, refreshes]).toEqual([2, 1]);

    calls = 0;
    const alwaysExpired = withRetry(
      async () => {
        calls++;
        throw error(CrmErrorCode.AUTH_EXPIRED);
      },
      { policy, refreshAuth: async () => void refreshes++ },
    );
    await expect(alwaysExpired).rejects.toMatchObject({ code: CrmErrorCode.AUTH_EXPIRED });
    expect([calls, refreshes]).toEqual([2, 2]);
  });

  it('does not retry AUTH_EXPIRED when the caller cannot refresh, nor a validation failure', async () => {
    for (const code of [CrmErrorCode.AUTH_EXPIRED, CrmErrorCode.VALIDATION_FAILED]) {
      let calls = 0;
      await expect(
        withRetry(
          async () => {
            calls++;
            throw error(code);
          },
          { policy },
        ),
      ).rejects.toMatchObject({ code });
      expect(calls).toBe(1);
    }
  });

  it('stops waiting when the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const attempt = withRetry(
      async () => {
        throw error(CrmErrorCode.RATE_LIMITED, { retryAfterMs: 30_000 });
      },
      { policy, signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 20);
    await expect(attempt).rejects.toMatchObject({ code: CrmErrorCode.ABORTED });
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(abortableSleep(10, AbortSignal.abort())).rejects.toMatchObject({
      code: CrmErrorCode.ABORTED,
    });
  });
});
