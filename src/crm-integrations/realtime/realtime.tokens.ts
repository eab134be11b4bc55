/** Tuning of the real-time path; tests pass a controllable clock and short waits. */
export interface RealtimeOptions {
  /** Hints of one connection arriving within this window are applied by one targeted sync (default 1,000 ms). */
  debounceMs?: number;
  /** When the connection's sync lock is held (a scheduled run), the hints come back after this long. */
  busyRetryMs?: number;
  /** After a targeted sync failed (CRM outage, rate limit), its hints wait this long unless the CRM said longer. */
  failureRetryMs?: number;
  /** Records one targeted sync takes at most; the rest follow in the next job at once. */
  maxHintsPerRun?: number;
  /** The lag figures cover this many of the connection's latest applied hints. */
  lagSampleSize?: number;
  /** Applied hints older than this are forgotten. */
  keepAppliedMs?: number;
  now?: () => Date;
}

export type ResolvedRealtimeOptions = Required<RealtimeOptions>;

export const REALTIME_OPTIONS = Symbol('REALTIME_OPTIONS');

export function resolveRealtimeOptions(options: RealtimeOptions | undefined): ResolvedRealtimeOptions {
  return {
    debounceMs: 1_000,
    busyRetryMs: 2_000,
    failureRetryMs: 30_000,
    maxHintsPerRun: 500,
    lagSampleSize: 200,
    keepAppliedMs: 24 * 3_600_000,
    now: () => new Date(),
    ...options,
  };
}
