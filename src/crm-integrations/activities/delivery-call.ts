import { withRetry, type RetryPolicy } from '@pm/connector-kit';
import type { CrmConnection } from '@pm/domain';
import type { ConnectorCapabilities, CrmSession, IntegrationPort } from '@pm/integration-port';
import type { SessionProvider } from '@pm/sync-engine';
import { rateLimitedPort, requestsFor } from '../rate-limits/rate-limited-port';
import type { RateBudgetFactory } from '../sync/rate-budget.factory';
import { budgetAccountKey } from '../sync/rate-budget.factory';
import type { PgRateBudgetOptions } from '../rate-limits/pg-rate-budget';

/** DI token for `ActivityDeliveryOptions`. */
export const ACTIVITY_DELIVERY_OPTIONS = Symbol('ACTIVITY_DELIVERY_OPTIONS');

export interface ActivityDeliveryOptions {
  retryPolicy?: RetryPolicy;
  /** Waits between retries; injectable so tests do not wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Events one job takes; more left over queue the next job at once. */
  maxEventsPerRun?: number;
  /** The rate budget's time source (tests move it instead of waiting out the CRM's windows). */
  budgetClock?: Pick<PgRateBudgetOptions, 'now' | 'sleep'>;
}

export interface DeliveryCounts {
  logged: number;
  failed: number;
  held: number;
  skipped: number;
  /** CRM writes made (one per record created or updated). */
  writes: number;
}

/**
 * Activities per `logActivities` call: the connector's batch limit. A CRM without a batch endpoint (requests per
 * record, as its capabilities count them) must have its call fit well inside the tightest rate window: a call larger
 * than the budget grants at once is split by the rate-limited port into several, and a failure in a later part
 * (revoked access) would lose the results of the parts already written.
 */
export function deliveryBatchSize(
  capabilities: ConnectorCapabilities,
  operation: 'logActivities' | 'upsertBatch' = 'logActivities',
): number {
  const maxBatch = Math.max(1, capabilities.maxWriteBatch);
  const windows = capabilities.rateLimits.flatMap((limit) => (limit.kind === 'window' ? [limit.limit] : []));
  if (windows.length === 0) return maxBatch;
  const requests = Math.max(1, Math.floor(Math.min(...windows) / 2));
  let size = maxBatch;
  while (size > 1 && requestsFor(capabilities, operation, size) > requests) size--;
  return size;
}

/** Why a delivery stopped early: every event not yet written is still waiting. */
export type Interruption = {
  status: 'interrupted';
  reason: string;
  retryAfterMs: number;
  needsReconnect: boolean;
};

/** One delivery's way to the CRM: the rate-limited port, one session, the retry rules. */
export interface DeliveryCall {
  port: IntegrationPort;
  crmName: string;
  call<T>(fn: (session: CrmSession) => Promise<T>): Promise<T>;
}

/**
 * The connector behind the CRM account's one rate budget (shared with its sync runs and every worker), on the
 * budget's `activity` priority; calls share one session, refreshed when the CRM refuses it, and retry by the
 * shared rules.
 */
export function openDeliveryCall(context: {
  connection: CrmConnection;
  port: IntegrationPort;
  sessions: SessionProvider;
  budgets: RateBudgetFactory;
  options: ActivityDeliveryOptions;
  /** Stops every budget wait, CRM call and retry (the delivery's lock was lost, or the process is stopping). */
  signal?: AbortSignal;
}): DeliveryCall {
  const { connection, port, sessions, options } = context;
  const capabilities = port.capabilities();
  const budget = context.budgets.forAccount(budgetAccountKey(connection), capabilities.rateLimits, {
    whenDailyExhausted: 'signal',
    ...options.budgetClock,
  });
  let session: CrmSession | undefined;
  return {
    port: rateLimitedPort(port, budget, 'activity', { signal: context.signal }),
    crmName: capabilities.displayName,
    call: async (fn) => {
      session ??= await sessions.getSession(connection.id);
      return withRetry(() => fn(session as CrmSession), {
        policy: options.retryPolicy,
        sleep: options.sleep,
        signal: context.signal,
        refreshAuth: async () => {
          session = await sessions.refreshSession(connection.id, session?.accessToken);
        },
      });
    },
  };
}
