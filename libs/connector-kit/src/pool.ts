/**
 * Runs `task` over `items` with at most `limit` in flight and returns the outcomes in input order. Once a task
 * throws an error `isFatal` accepts, no new task starts; tasks already in flight finish, then that error is thrown.
 * Other errors are the tasks' own to turn into results (they are rethrown unchanged).
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
  isFatal: (error: unknown) => boolean = () => true,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let fatal: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (fatal === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index], index);
      } catch (error) {
        if (!isFatal(error)) throw error;
        fatal ??= { error };
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, () => worker());
  await Promise.all(workers);
  if (fatal !== undefined) throw fatal.error;
  return results;
}

/**
 * A counting semaphore: at most `limit` calls of `run` are in flight at once; the rest wait in arrival order. One
 * gate per CRM account is the single place that decides how many requests that account has in flight.
 */
export class ConcurrencyGate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  /** The most calls that were ever in flight at once (for tests and the benchmark). */
  private peak = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`A concurrency limit must be a positive integer, got ${limit}`);
    }
  }

  get inFlight(): number {
    return this.active;
  }

  get maxInFlight(): number {
    return this.peak;
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    this.peak = Math.max(this.peak, this.active);
    try {
      return await call();
    } finally {
      const nextInLine = this.waiting.shift();
      // The slot passes straight to the next caller, so `active` never dips and a newcomer cannot jump the queue.
      if (nextInLine) nextInLine();
      else this.active--;
    }
  }
}
