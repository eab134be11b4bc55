import { CrmError, CrmErrorCode } from '@pm/integration-port';
import type { RatePriority } from './rate-budget';
import { shouldRetry } from './retry';
import { flushPromises, InMemoryRateBudget, ManualClock } from './testing';

function track(promise: Promise<void>): { settled: () => 'pending' | 'granted' | CrmError | Error } {
  let state: 'pending' | 'granted' | CrmError | Error = 'pending';
  promise.then(
    () => (state = 'granted'),
    (error: Error) => (state = error),
  );
  return { settled: () => state };
}

describe('InMemoryRateBudget', () => {
  it('grants a window limit at once, then one call per refill interval', async () => {
    const clock = new ManualClock();
    const budget = new InMemoryRateBudget([{ kind: 'window', limit: 10, windowMs: 1_000 }], { clock });
    await Promise.all(Array.from({ length: 10 }, () => budget.acquire(1, 'background')));
    const eleventh = track(budget.acquire(1, 'background'));
    await flushPromises();
    expect(eleventh.settled()).toBe('pending');
    await clock.advance(99);
    expect(eleventh.settled()).toBe('pending');
    await clock.advance(1);
    expect(eleventh.settled()).toBe('granted');
  });

  it('serves waiters by priority (interactive, activity, background), then in arrival order', async () => {
    const clock = new ManualClock();
    const budget = new InMemoryRateBudget([{ kind: 'window', limit: 1, windowMs: 100 }], { clock });
    await budget.acquire(1, 'background');
    const order: string[] = [];
    const arrivals: [string, RatePriority][] = [
      ['sync-1', 'background'],
      ['activity-1', 'activity'],
      ['sync-2', 'background'],
      ['user-1', 'interactive'],
      ['activity-2', 'activity'],
    ];
    const all = arrivals.map(([name, priority]) => budget.acquire(1, priority).then(() => order.push(name)));
    await clock.advance(1_000);
    await Promise.all(all);
    expect(order).toEqual(['user-1', 'activity-1', 'activity-2', 'sync-1', 'sync-2']);
  });

  it('waits for the daily refill when the daily quota runs out, instead of failing', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 15, 23, 0, 0));
    const budget = new InMemoryRateBudget([{ kind: 'daily', limit: 3 }], { clock });
    await Promise.all([1, 2, 3].map(() => budget.acquire(1, 'background')));
    const fourth = track(budget.acquire(1, 'background'));
    await clock.advance(59 * 60_000);
    expect(fourth.settled()).toBe('pending');
    await clock.advance(60_000);
    expect(fourth.settled()).toBe('granted');
    expect(budget.snapshot().limits[0].available).toBe(2);
  });

  it('signals QUOTA_EXHAUSTED with the time to the refill when asked to, which the retry policy turns into a pause', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 15, 23, 0, 0));
    const budget = new InMemoryRateBudget([{ kind: 'daily', limit: 2 }], {
      clock,
      whenDailyExhausted: 'signal',
    });
    await budget.acquire(2, 'background');
    const rejected = await budget.acquire(1, 'background').catch((error: unknown) => error);
    expect(rejected).toBeInstanceOf(CrmError);
    expect(rejected).toMatchObject({ code: CrmErrorCode.QUOTA_EXHAUSTED, retryAfterMs: 3_600_000 });
    expect(shouldRetry(rejected, 1)).toMatchObject({ retry: false, pause: true, waitMs: 3_600_000 });
    // A caller may still choose to wait for the refill.
    const waiting = track(budget.acquire(1, 'background', { whenDailyExhausted: 'wait' }));
    await clock.advance(3_600_000);
    expect(waiting.settled()).toBe('granted');
  });

  it('follows what the CRM reports: remaining calls, a Retry-After, and the daily reset', async () => {
    const clock = new ManualClock();
    const budget = new InMemoryRateBudget(
      [
        { kind: 'window', limit: 100, windowMs: 10_000 },
        { kind: 'daily', limit: 1_000 },
      ],
      { clock },
    );
    await budget.report({ windowRemaining: 0 });
    const afterEmptyWindow = track(budget.acquire(1, 'interactive'));
    await clock.advance(99);
    expect(afterEmptyWindow.settled()).toBe('pending');
    await clock.advance(1);
    expect(afterEmptyWindow.settled()).toBe('granted');

    await budget.report({ retryAfterMs: 5_000 });
    const afterRetryAfter = track(budget.acquire(1, 'interactive'));
    await clock.advance(4_999);
    expect(afterRetryAfter.settled()).toBe('pending');
    await clock.advance(1);
    expect(afterRetryAfter.settled()).toBe('granted');

    await budget.report({ dailyRemaining: 0, dailyResetMs: 60_000 });
    const afterDaily = track(budget.acquire(1, 'background'));
    await clock.advance(59_999);
    expect(afterDaily.settled()).toBe('pending');
    await clock.advance(1);
    expect(afterDaily.settled()).toBe('granted');
  });

  it('drops an aborted waiter so the next one is served, and refuses a cost no limit can hold', async () => {
    const clock = new ManualClock();
    const budget = new InMemoryRateBudget([{ kind: 'window', limit: 1, windowMs: 1_000 }], { clock });
    await budget.acquire(1, 'interactive');
    const controller = new AbortController();
    const aborted = track(budget.acquire(1, 'interactive', { signal: controller.signal }));
    const next = track(budget.acquire(1, 'background'));
    controller.abort();
    await flushPromises();
    expect(aborted.settled()).toMatchObject({ code: CrmErrorCode.ABORTED });
    await clock.advance(1_000);
    expect(next.settled()).toBe('granted');
    expect(budget.snapshot().waiting).toBe(0);
    await expect(budget.acquire(2, 'background')).rejects.toThrow('can never be granted');
  });
});
