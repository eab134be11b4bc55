/**
 * Runs `task` over `items` with at most `limit` in flight and returns the outcomes in input order. Once a task
 * throws an error `isFatal` accepts, no new task starts; tasks already in flight finish, then that error is thrown.
 * Other errors are the tasks' own to turn into results.
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
