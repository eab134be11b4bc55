import { setMaxListeners } from 'node:events';
import type { RateBudget, RatePriority } from '@pm/connector-kit';
import { inBatches } from '@pm/connector-kit';
import type {
  ConnectorCapabilities,
  CrmRecord,
  CrmSession,
  IntegrationPort,
  ItemOperation,
  PortOperation,
} from '@pm/integration-port';

export interface RateLimitedPortOptions {
  /**
   * The run's abort signal: reaches every wait for the budget and every CRM call, whatever signal (if any) the
   * session the engine passes carries.
   */
  signal?: AbortSignal;
}

/** CRM requests one call of `operation` makes for `items` items, as the connector's capabilities declare them. */
export function requestsFor(
  capabilities: ConnectorCapabilities,
  operation: ItemOperation,
  items: number,
): number {
  if (items <= 0) return 0;
  const declared = capabilities.requestCounts?.[operation];
  if (declared === undefined) {
    const perRequest = Math.max(1, capabilities.writeRecordsPerRequest ?? capabilities.maxWriteBatch);
    return Math.ceil(items / perRequest);
  }
  const perItem = declared.requestsPerItem ? Math.ceil(items * declared.requestsPerItem) : 0;
  const perGroup = declared.itemsPerRequest ? Math.ceil(items / declared.itemsPerRequest) : 0;
  return Math.max(1, perItem + perGroup);
}

/**
 * An `IntegrationPort` whose every CRM call first takes what the CRM will count (its HTTP requests) from the
 * account's shared `RateBudget`, and whose sessions report the CRM's rate-limit headers back to it. A list too long
 * for one grant (100 e-mails searched one request each, against 80 requests per 2 s) is split into calls that each
 * fit, made one after another. Wrapping the port once keeps budgeting out of both the engine (which knows no CRM)
 * and the connectors (which never wait or retry).
 */
export function rateLimitedPort(
  port: IntegrationPort,
  budget: RateBudget,
  priority: RatePriority,
  options: RateLimitedPortOptions = {},
): IntegrationPort {
  const capabilities = port.capabilities();
  // Every budget wait and every request in flight (lanes × the connector's concurrency) listens to the run's one
  // signal; that many listeners are expected, not a leak.
  if (options.signal) setMaxListeners(100, options.signal);

  const withBudget = async <T>(
    operation: PortOperation,
    cost: number,
    session: CrmSession,
    call: (session: CrmSession) => Promise<T>,
  ): Promise<T> => {
    const signal = joinSignals(session.signal, options.signal);
    const grant = cost > 0 ? await budget.acquire(cost, priority, { signal, operation }) : undefined;
    try {
      return await call({
        ...session,
        signal,
        onRateLimit: (observation) => {
          session.onRateLimit?.(observation);
          void budget.report(observation).catch(() => undefined);
        },
      });
    } finally {
      // Unsettled grants leave the window when their lease ends; the call's own result matters more.
      await grant?.settle().catch(() => undefined);
    }
  };

  /**
   * Calls `call` on consecutive slices of `items`, each as large as one grant allows, and joins the results. `costOf`
   * charges a slice what its items ask, where the connector declares that (never more than the slice was sized by).
   */
  const inSlices = async <I, R>(
    operation: ItemOperation,
    session: CrmSession,
    items: readonly I[],
    call: (session: CrmSession, slice: I[]) => Promise<R[]>,
    costOf?: (slice: I[]) => number | undefined,
  ): Promise<R[]> => {
    if (items.length === 0) return withBudget(operation, 0, session, (s) => call(s, []));
    const largest = budget.largestGrant?.(priority, operation);
    const size = sliceSize(
      capabilities,
      operation,
      items.length,
      largest === undefined ? undefined : grantCap(capabilities, operation, largest),
    );
    const results: R[] = [];
    for (const slice of inBatches(items, size)) {
      const most = requestsFor(capabilities, operation, slice.length);
      const cost = Math.min(most, costOf?.(slice) ?? most);
      results.push(...(await withBudget(operation, cost, session, (s) => call(s, slice))));
    }
    return results;
  };

  const readAssociations = port.readAssociations?.bind(port);
  return {
    provider: port.provider,
    capabilities: () => port.capabilities(),
    buildAuthorizeUrl: (request) => port.buildAuthorizeUrl(request),
    exchangeCode: (request) => port.exchangeCode(request),
    refreshTokens: (refreshToken, previous) => port.refreshTokens(refreshToken, previous),
    revokeToken: (token, session) => port.revokeToken(token, session),
    parseWebhook: (request, secrets) => port.parseWebhook(request, secrets),
    describeObject: (session, object) =>
      withBudget('describeObject', 1, session, (s) => port.describeObject(s, object)),
    readChanges: (session, request) =>
      withBudget('readChanges', 1, session, (s) => port.readChanges(s, request)),
    listIds: (session, request) => withBudget('listIds', 1, session, (s) => port.listIds(s, request)),
    upsertBatch: (session, request) =>
      inSlices(
        'upsertBatch',
        session,
        request.records,
        (s, records) => port.upsertBatch(s, { ...request, records }),
        (records) => upsertRequests(capabilities, records, request.createsMatched === true),
      ),
    findByEmail: async (session, object, emails) =>
      uniqueById(
        await inSlices('findByEmail', session, emails, (s, slice) => port.findByEmail(s, object, slice)),
      ),
    findByField: async (session, request) =>
      uniqueById(
        await inSlices('findByField', session, request.values, (s, values) =>
          port.findByField(s, { ...request, values }),
        ),
      ),
    getRecords: (session, request) =>
      inSlices('getRecords', session, request.ids, (s, ids) => port.getRecords(s, { ...request, ids })),
    deleteRecords: (session, request) =>
      inSlices('deleteRecords', session, request.ids, (s, ids) => port.deleteRecords(s, { ...request, ids })),
    findCompanies: async (session, request) => {
      // Each name and domain is an item searched: a long list is split into calls that each fit one grant.
      const terms = [
        ...request.names.map((value) => ({ name: value })),
        ...request.domains.map((value) => ({ domain: value })),
      ];
      return uniqueById(
        await inSlices('findCompanies', session, terms, (s, slice) =>
          port.findCompanies(s, {
            ...request,
            names: slice.flatMap((term) => ('name' in term ? [term.name] : [])),
            domains: slice.flatMap((term) => ('domain' in term ? [term.domain] : [])),
          }),
        ),
      );
    },
    associateRecords: (session, request) =>
      inSlices('associateRecords', session, request.pairs, (s, pairs) =>
        port.associateRecords(s, { ...request, pairs }),
      ),
    // Present only where the connector has it (the engine reads associations inline otherwise); slices joined.
    ...(readAssociations && {
      readAssociations: async (session, request) =>
        Object.assign(
          {},
          ...(await inSlices('readAssociations', session, request.ids, async (s, ids) => [
            await readAssociations(s, { ...request, ids }),
          ])),
        ) as Record<string, string[]>,
    }),
    logActivities: (session, activities) =>
      inSlices('logActivities', session, activities, (s, slice) => port.logActivities(s, slice)),
    // One request per object subscribed (Pipedrive creates one webhook each), one per webhook removed.
    registerWebhooks: (session, request) =>
      withBudget('registerWebhooks', request.objects.length, session, (s) =>
        port.registerWebhooks(s, request),
      ),
    removeWebhooks: (session, ids) =>
      withBudget('removeWebhooks', ids.length, session, (s) => port.removeWebhooks(s, ids)),
  };
}

/** Requests an upsert of `records` makes by what each asks (`perUpsert`); undefined where not declared. */
function upsertRequests(
  capabilities: ConnectorCapabilities,
  records: readonly { crmId?: string }[],
  createsMatched: boolean,
): number | undefined {
  const per = capabilities.requestCounts?.upsertBatch?.perUpsert;
  if (per === undefined || records.length === 0) return undefined;
  const create = createsMatched ? per.matchedCreate : per.create;
  const updates = records.filter((record) => record.crmId !== undefined).length;
  const reads = per.updatesPerRead ? Math.ceil(updates / per.updatesPerRead) : 0;
  return Math.max(1, (records.length - updates) * create + updates * per.update + reads);
}

/**
 * A slice of requests sent one after another (one or more per item: Pipedrive's writes) takes at most
 * this share of the largest grant. A grant stays in the windows until its call ends, so the slice's first request
 * counts there for as long as the slice runs after the CRM has let it go: with slices of half a window (40 of
 * Pipedrive's 80 per 2 s) that margin held the account to about 30 requests a second of its 40. An eighth keeps it
 * to a few requests' time.
 */
const SERIAL_SLICE_SHARE = 1 / 8;

/** The most requests one grant may cover for `operation`: `largest`, or a share of it for serial requests. */
function grantCap(capabilities: ConnectorCapabilities, operation: ItemOperation, largest: number): number {
  // Writes of records only: a slice that fails as a whole (a revoked token) loses the results of the slices before
  // it in the same call, which a record write survives (its retry looks the record up again) but an activity log
  // would report as not logged, and re-check.
  if (operation !== 'upsertBatch') return largest;
  const count = capabilities.requestCounts?.[operation];
  // Where a call also makes requests per group of items (a read of the matches), a smaller slice would add requests.
  if (!count?.requestsPerItem || count.itemsPerRequest) return largest;
  const oneItem = requestsFor(capabilities, operation, 1);
  return Math.min(largest, Math.max(oneItem, Math.floor(largest * SERIAL_SLICE_SHARE)));
}

/** The most items one call may take so that its requests fit in one grant of `largest`. */
function sliceSize(
  capabilities: ConnectorCapabilities,
  operation: ItemOperation,
  items: number,
  largest: number | undefined,
): number {
  if (largest === undefined || requestsFor(capabilities, operation, items) <= largest) return items;
  let low = 0;
  let high = items;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (requestsFor(capabilities, operation, middle) <= largest) low = middle;
    else high = middle - 1;
  }
  if (low === 0) {
    throw new RangeError(
      `One ${operation} item costs ${requestsFor(capabilities, operation, 1)} requests, more than the ` +
        `${largest} the rate budget can grant at once`,
    );
  }
  return low;
}

/** A person holding two of the e-mails looked up in different slices is found twice: keep one. */
function uniqueById(records: CrmRecord[]): CrmRecord[] {
  const byId = new Map<string, CrmRecord>();
  for (const record of records) if (!byId.has(record.id)) byId.set(record.id, record);
  return [...byId.values()];
}

function joinSignals(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  if (present.length <= 1) return present[0];
  return AbortSignal.any(present);
}
