/**
 * The sandbox's notion of "now". Every timestamp a sandbox writes (create/update times, token issue and expiry,
 * tombstones) comes from here, so a test can freeze time and stage thousands of records with one timestamp, or
 * jump a day ahead to expire tokens without waiting.
 */
export type DateInput = Date | string | number;

export interface SandboxClockOptions {
  /** Start at this instant instead of the real time. */
  start?: DateInput;
  /** Start frozen (time does not move until advanced or unfrozen). */
  frozen?: boolean;
}

export function toEpochMs(input: DateInput): number {
  const ms = input instanceof Date ? input.getTime() : typeof input === 'number' ? input : Date.parse(input);
  if (!Number.isFinite(ms)) throw new RangeError(`Not a valid date: ${String(input)}`);
  return ms;
}

export class SandboxClock {
  /** Difference between the sandbox time and the real time while the clock runs. */
  private offsetMs = 0;
  /** The sandbox time while frozen; undefined while running. */
  private frozenAtMs: number | undefined;

  constructor(options: SandboxClockOptions = {}) {
    const start = options.start === undefined ? undefined : toEpochMs(options.start);
    // Frozen at `start` exactly: going through the offset reads the wall clock twice, and a busy machine lets a
    // millisecond pass between the reads.
    if (options.frozen) this.frozenAtMs = start ?? Date.now();
    else if (start !== undefined) this.offsetMs = start - Date.now();
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  nowMs(): number {
    return this.frozenAtMs ?? Date.now() + this.offsetMs;
  }

  /** Jump to `date`. A frozen clock stays frozen at `date`; a running one keeps ticking from it. */
  set(date: DateInput): void {
    const target = toEpochMs(date);
    if (this.frozenAtMs !== undefined) this.frozenAtMs = target;
    else this.offsetMs = target - Date.now();
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError(`advance() needs a finite number of ms, got ${ms}`);
    if (this.frozenAtMs !== undefined) this.frozenAtMs += ms;
    else this.offsetMs += ms;
  }

  /**
   * Stops the clock: at `at` exactly where given (a `set` then `freeze` reads the wall clock twice, and a busy machine
   * lets a millisecond pass between the reads), else where it stands.
   */
  freeze(at?: DateInput): void {
    if (at !== undefined) this.frozenAtMs = toEpochMs(at);
    else if (this.frozenAtMs === undefined) this.frozenAtMs = this.nowMs();
  }

  unfreeze(): void {
    if (this.frozenAtMs === undefined) return;
    this.offsetMs = this.frozenAtMs - Date.now();
    this.frozenAtMs = undefined;
  }

  get isFrozen(): boolean {
    return this.frozenAtMs !== undefined;
  }

  /** Back to the real time, running. */
  reset(): void {
    this.offsetMs = 0;
    this.frozenAtMs = undefined;
  }
}
