import { SandboxClock } from './clock';

describe('SandboxClock', () => {
  it('runs with the real time by default', () => {
    const clock = new SandboxClock();
    expect(Math.abs(clock.nowMs() - Date.now())).toBeLessThan(50);
  });

  it('stays at one instant while frozen, so many writes share a timestamp', async () => {
    const clock = new SandboxClock({ start: '2024-03-01T10:00:00.000Z', frozen: true });
    const first = clock.now().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 15));
    expect(clock.now().toISOString()).toBe(first);
    expect(first).toBe('2024-03-01T10:00:00.000Z');
  });

  it('advances and jumps while frozen', () => {
    const clock = new SandboxClock({ start: 0, frozen: true });
    clock.advance(1500);
    expect(clock.nowMs()).toBe(1500);
    clock.set(new Date('2030-01-01T00:00:00Z'));
    expect(clock.now().toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });

  it('keeps ticking from a set date when running, and from the frozen instant after unfreeze', async () => {
    const clock = new SandboxClock();
    clock.set('2020-01-01T00:00:00Z');
    const base = Date.parse('2020-01-01T00:00:00Z');
    expect(clock.nowMs() - base).toBeGreaterThanOrEqual(0);
    expect(clock.nowMs() - base).toBeLessThan(50);
    clock.freeze();
    clock.advance(60_000);
    clock.unfreeze();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(clock.nowMs() - base).toBeGreaterThanOrEqual(60_015);
    expect(clock.nowMs() - base).toBeLessThan(60_200);
  });

  it('rejects invalid dates', () => {
    expect(() => new SandboxClock().set('not a date')).toThrow(RangeError);
  });

  it('reset() goes back to real, running time', () => {
    const clock = new SandboxClock({ start: 0, frozen: true });
    clock.reset();
    expect(clock.isFrozen).toBe(false);
    expect(Math.abs(clock.nowMs() - Date.now())).toBeLessThan(50);
  });
});
