import type { Clock } from '../clock';

/** A clock moved by hand: `advance` fires due timers in time order, so rate-budget tests never wait. */
export class ManualClock implements Clock {
  private timers: { at: number; sequence: number; callback: () => void }[] = [];
  private sequence = 0;

  constructor(private current = Date.UTC(2026, 0, 15, 12, 0, 0)) {}

  now(): number {
    return this.current;
  }

  setTimer(callback: () => void, ms: number): () => void {
    const timer = { at: this.current + ms, sequence: this.sequence++, callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((other) => other !== timer);
    };
  }

  /** Moves time forward by `ms`, firing each due timer at its own instant; then lets promise callbacks run. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers
        .filter((timer) => timer.at <= target)
        .sort((a, b) => a.at - b.at || a.sequence - b.sequence)[0];
      if (!due) {
        break;
      }
      this.timers = this.timers.filter((timer) => timer !== due);
      this.current = Math.max(this.current, due.at);
      due.callback();
      await flushPromises();
    }
    this.current = target;
    await flushPromises();
  }

  pendingTimers(): number {
    return this.timers.length;
  }
}

export async function flushPromises(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await Promise.resolve();
  }
}
