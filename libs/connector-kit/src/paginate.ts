import {
  CrmError,
  CrmErrorCode,
  type ChangePage,
  type CrmSession,
  type IntegrationPort,
  type ReadChangesRequest,
} from '@pm/integration-port';

/** Anything a page fetch returns: the page's content plus the token of the next page (absent on the last). */
export interface TokenPage {
  nextPageToken?: string;
}

export interface PaginateOptions {
  /** Stops between pages (a cancelled run); the page in flight is the fetcher's to abort. */
  signal?: AbortSignal;
  /** A hard stop for a CRM that keeps inventing new tokens; absent: no limit. */
  maxPages?: number;
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

/**
 * The one paginator: calls `fetchPage` with the previous page's `nextPageToken` and yields each page until a page has
 * none. Pages are yielded one at a time, so a caller processes and releases a page before the next is fetched —
 * the whole CRM is never held in memory. An empty-string token counts as "no more pages" (some CRMs send `""`).
 */
export async function* paginate<P extends TokenPage>(
  fetchPage: (pageToken: string | undefined) => Promise<P>,
  options: PaginateOptions = {},
): AsyncGenerator<P, void, undefined> {
  const followed = new Set<string>();
  let pageToken: string | undefined;
  for (let pageNumber = 1; ; pageNumber++) {
    if (options.signal?.aborted) {
      throw new CrmError(CrmErrorCode.ABORTED, 'Pagination aborted by the caller', {
        cause: options.signal.reason,
      });
    }
    if (options.maxPages !== undefined && pageNumber > options.maxPages) {
      throw new CrmError(
        CrmErrorCode.UNKNOWN,
        `Pagination stopped after ${options.maxPages} pages (maxPages)`,
      );
    }
    const page = await fetchPage(pageToken);
    const next = page.nextPageToken;
    yield page;
    if (next === undefined || next === '') {
      return;
    }
    if (followed.has(next)) {
      throw new RepeatedPageTokenError(next, pageNumber);
    }
    followed.add(next);
    pageToken = next;
  }
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
