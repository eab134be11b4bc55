import { SandboxClock } from './clock';

describe('SandboxClock', () => {
  // Jest's modern fake timers move Date.now() too, so "real time passing" is a step the test takes, not a wait.
  beforeEach(() => jest.useFakeTimers({ now: Date.parse('2026-06-01T12:00:00.000Z') }));
  afterEach(() => jest.useRealTimers());

  it('runs with the real time by default', () => {
    const clock = new SandboxClock();
    expect(clock.nowMs()).toBe(Date.now());
    jest.advanceTimersByTime(1_234);
    expect(clock.nowMs()).toBe(Date.now());
  });

  it('stays at one instant while frozen, so many writes share a timestamp', () => {
    const clock = new SandboxClock({ start: '2024-03-01T10:00:00.000Z', frozen: true });
    const first = clock.now().toISOString();
    jest.advanceTimersByTime(15);
    expect(clock.now().toISOString()).toBe(first);
    expect(first).toBe('2024-03-01T10:00:00.000Z');
  });

  it('starts frozen exactly at the given instant, however long reading the wall clock takes', () => {
    const realNow = Date.now;
    // A busy machine: every read of the wall clock is a millisecond later than the one before.
    let reads = 0;
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + reads++);
    const clock = new SandboxClock({ start: '2024-05-05T05:05:05Z', frozen: true });
    expect(clock.now().toISOString()).toBe('2024-05-05T05:05:05.000Z');
    jest.restoreAllMocks();
  });

  it('advances and jumps while frozen', () => {
    const clock = new SandboxClock({ start: 0, frozen: true });
    clock.advance(1500);
    expect(clock.nowMs()).toBe(1500);
    clock.set(new Date('2030-01-01T00:00:00Z'));
    expect(clock.now().toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });

  it('keeps ticking from a set date when running, and from the frozen instant after unfreeze', () => {
    const clock = new SandboxClock();
    clock.set('2020-01-01T00:00:00Z');
    const base = Date.parse('2020-01-01T00:00:00Z');
    expect(clock.nowMs()).toBe(base);
    jest.advanceTimersByTime(5);
    expect(clock.nowMs()).toBe(base + 5);
    clock.freeze();
    clock.advance(60_000);
    jest.advanceTimersByTime(1_000);
    expect(clock.nowMs()).toBe(base + 60_005);
    clock.unfreeze();
    jest.advanceTimersByTime(20);
    expect(clock.nowMs()).toBe(base + 60_025);
  });

  it('freezes a running clock at the instant given, however much wall time passes while it does', () => {
    const clock = new SandboxClock();
    const spy = jest.spyOn(Date, 'now');
    // Each wall-clock read a millisecond later, as on a busy machine.
    let wall = Date.parse('2026-12-06T08:00:00Z');
    spy.mockImplementation(() => (wall += 1));
    clock.freeze('2020-01-01T00:00:00Z');
    expect(clock.nowMs()).toBe(Date.parse('2020-01-01T00:00:00Z'));
    spy.mockRestore();
  });

  it('rejects invalid dates', () => {
    expect(() => new SandboxClock().set('not a date')).toThrow(RangeError);
  });

  it('reset() goes back to real, running time', () => {
    const clock = new SandboxClock({ start: 0, frozen: true });
    clock.reset();
    expect(clock.isFrozen).toBe(false);
    expect(clock.nowMs()).toBe(Date.now());
  });
});
