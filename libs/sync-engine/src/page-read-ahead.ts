import { CrmError, CrmErrorCode, type ChangePage } from '@pm/integration-port';

const recordsIn = (page: ChangePage): number => page.records.length + page.deleted.length;

/**
 * The pages at the front of `buffered` that make one group: at least one page, then more while the group stays
 * within `maxRecords` and names no record twice (a record read again is applied after the group that first held it,
 * as it would be page by page).
 */
function takeGroup(buffered: ChangePage[], maxRecords: number): ChangePage {
  const first = buffered.shift() as ChangePage;
  const group: ChangePage = { records: [...first.records], deleted: [...first.deleted] };
  const ids = new Set([...first.records, ...first.deleted].map((record) => record.id));
  let size = recordsIn(first);
  while (buffered.length > 0) {
    const next = buffered[0];
    const nextIds = [...next.records, ...next.deleted].map((record) => record.id);
    if (size + recordsIn(next) > maxRecords || nextIds.some((id) => ids.has(id))) break;
    buffered.shift();
    group.records.push(...next.records);
    group.deleted.push(...next.deleted);
    for (const id of nextIds) ids.add(id);
    size += recordsIn(next);
  }
  return group;
}

/**
 * Keeps reading `pages` while the caller applies what it was handed, and hands over everything read meanwhile as one
 * page (at most `maxRecords`, no record twice). When applying is slower than reading (small CRM pages: HubSpot's 200
 * a search), a page's fixed costs (its queries, commits and log and cursor saves) are paid once for several pages;
 * when reading is slower (a CRM's rate limit), each page is handed over as it arrives, as before. At most about
 * `maxRecords` are held, plus the page being read. A read that fails is reported once the pages read before it are
 * handed over, so they are applied (and the cursor passes them) first; a stop request hands over nothing more.
 */
export async function* readAhead(
  pages: AsyncGenerator<ChangePage, void, undefined>,
  maxRecords: number,
  signal?: AbortSignal,
): AsyncGenerator<ChangePage, void, undefined> {
  const buffered: ChangePage[] = [];
  let held = 0;
  let finished = false;
  let stopped = false;
  let failure: { error: unknown } | undefined;
  let wakeReader: (() => void) | undefined;
  let wakeCaller: (() => void) | undefined;
  const callerWakes = () => {
    wakeCaller?.();
    wakeCaller = undefined;
  };
  const reading = (async () => {
    try {
      for (;;) {
        while (!stopped && held >= maxRecords) await new Promise<void>((resolve) => (wakeReader = resolve));
        if (stopped) return;
        const next = await pages.next();
        if (next.done || stopped) return;
        buffered.push(next.value);
        held += recordsIn(next.value);
        callerWakes();
      }
    } catch (error) {
      failure = { error };
    } finally {
      finished = true;
      callerWakes();
    }
  })();
  try {
    for (;;) {
      if (signal?.aborted) {
        throw new CrmError(CrmErrorCode.ABORTED, 'Pagination aborted by the caller', {
          cause: signal.reason,
        });
      }
      if (buffered.length === 0) {
        if (finished) {
          if (failure) throw failure.error;
          return;
        }
        await new Promise<void>((resolve) => (wakeCaller = resolve));
        continue;
      }
      const group = takeGroup(buffered, maxRecords);
      held -= recordsIn(group);
      wakeReader?.();
      wakeReader = undefined;
      yield group;
    }
  } finally {
    stopped = true;
    wakeReader?.();
    // A read in flight is left to finish on its own (a caller that failed does not wait for the CRM).
    if (!finished) void reading.then(() => pages.return(undefined)).catch(() => undefined);
  }
}
