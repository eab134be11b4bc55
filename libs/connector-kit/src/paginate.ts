import {
  CrmError,
  CrmErrorCode,
  type ChangePage,
  type CrmSession,
  type IntegrationPort,
  type ReadChangesRequest,
} from '@pm/integration-port';
import { nextPageTokenFrom, pageItemsFrom, type PaginationFacts } from './http-facts';

/** Anything a page fetch returns: the page's content plus the token of the next page (absent on the last). */
export interface TokenPage {
  nextPageToken?: string;
}

export interface PaginateOptions {
  /** Stops between pages (a cancelled run); the page in flight is the fetcher's to abort. */
  signal?: AbortSignal;
  /** A hard stop for a CRM that keeps inventing new tokens; absent: no limit. */
  maxPages?: number;
  /**
   * Ask for the next page while the caller works on the current one, so the CRM call and the caller's work (database
   * writes) overlap; at most two pages are held. A stop request lets the page in hand finish and fetches no further.
   */
  prefetch?: boolean;
}

/** A CRM handed back a page token it had already given: following it would loop forever. */
export class RepeatedPageTokenError extends CrmError {
  constructor(
    readonly pageToken: string,
    readonly pageNumber: number,
  ) {
    super(
      CrmErrorCode.UNKNOWN,
      `Pagination stopped: page ${pageNumber} returned next page token "${pageToken}", which was already followed; ` +
        'the CRM would return the same pages forever',
    );
    this.name = 'RepeatedPageTokenError';
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new CrmError(CrmErrorCode.ABORTED, 'Pagination aborted by the caller', { cause: signal.reason });
  }
}

/**
 * The one paginator: calls `fetchPage` with the previous page's `nextPageToken` and yields each page until a page has
 * none. Pages are yielded one at a time (two with `prefetch`), so a caller processes and releases a page before the
 * next is held — the whole CRM is never held in memory. An empty-string token counts as "no more pages" (some CRMs
 * send `""`).
 */
export async function* paginate<P extends TokenPage>(
  fetchPage: (pageToken: string | undefined) => Promise<P>,
  options: PaginateOptions = {},
): AsyncGenerator<P, void, undefined> {
  const followed = new Set<string>();
  throwIfAborted(options.signal);
  let pending: Promise<P> | undefined = fetchPage(undefined);
  for (let pageNumber = 1; pending; pageNumber++) {
    const page: P = await pending;
    pending = undefined;
    const next = page.nextPageToken;
    let nextToken: string | undefined;
    let repeated = false;
    if (next !== undefined && next !== '') {
      repeated = followed.has(next);
      followed.add(next);
      nextToken = next;
      const withinLimit = options.maxPages === undefined || pageNumber < options.maxPages;
      if (options.prefetch && !repeated && withinLimit && !options.signal?.aborted) {
        pending = fetchPage(next);
        // Awaited on the next turn; this only keeps an abandoned read (the caller failed) from going unhandled.
        pending.catch(() => undefined);
      }
    }
    yield page;
    if (nextToken === undefined) return;
    if (repeated) throw new RepeatedPageTokenError(nextToken, pageNumber);
    throwIfAborted(options.signal);
    if (options.maxPages !== undefined && pageNumber >= options.maxPages) {
      throw new CrmError(
        CrmErrorCode.UNKNOWN,
        `Pagination stopped after ${options.maxPages} pages (maxPages)`,
      );
    }
    pending ??= fetchPage(nextToken);
  }
}

/**
 * Follows every page of one listing inside a single port operation (a look-up by e-mail or by ids that the CRM answers
 * in several pages), driven by the connector's declared pagination facts: `fetchBody` gets the previous page's next
 * token or URL (undefined for the first) and returns the raw JSON body; the items are read from `itemsPath` and the
 * next token from `nextPath`. Yields each page's items.
 */
export async function* followPages<T = unknown>(
  pagination: PaginationFacts,
  fetchBody: (pageToken: string | undefined) => Promise<unknown>,
  options: PaginateOptions = {},
): AsyncGenerator<T[], void, undefined> {
  const pages = paginate(async (pageToken) => {
    const body = await fetchBody(pageToken);
    return {
      items: pageItemsFrom(pagination, body) as T[],
      nextPageToken: nextPageTokenFrom(pagination, body),
    };
  }, options);
  for await (const page of pages) yield page.items;
}

/** Every item of a paged listing (see `followPages`), for the look-ups whose whole answer is small by nature. */
export async function collectPages<T = unknown>(
  pagination: PaginationFacts,
  fetchBody: (pageToken: string | undefined) => Promise<unknown>,
  options: PaginateOptions = {},
): Promise<T[]> {
  const items: T[] = [];
  for await (const page of followPages<T>(pagination, fetchBody, options)) items.push(...page);
  return items;
}

/**
 * Reads every change of `request.object` since `request.since`, one `ChangePage` at a time, by driving
 * `port.readChanges`. The caller decides what a page means (apply it, advance the cursor) before asking for the next.
 * Retries belong around each page call (wrap `port` or the loop body with `withRetry`), not around the whole read.
 */
export function readAllChanges(
  port: Pick<IntegrationPort, 'readChanges'>,
  session: CrmSession,
  request: Omit<ReadChangesRequest, 'pageToken'>,
  options: PaginateOptions & {
    /** Wraps each page call, e.g. `(call) => withRetry(call, {...})`. */
    callPage?: (call: () => Promise<ChangePage>) => Promise<ChangePage>;
  } = {},
): AsyncGenerator<ChangePage, void, undefined> {
  const callPage = options.callPage ?? ((call: () => Promise<ChangePage>) => call());
  return paginate(
    (pageToken) =>
      callPage(() =>
        port.readChanges(session, pageToken === undefined ? request : { ...request, pageToken }),
      ),
    { signal: options.signal ?? session.signal, maxPages: options.maxPages },
  );
}
