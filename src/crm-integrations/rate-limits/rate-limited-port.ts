import type { RateBudget, RatePriority } from '@pm/connector-kit';
import type {
  ActivityInput,
  ChangePage,
  CrmRecord,
  CrmSession,
  DeleteRecordsRequest,
  FieldDescriptor,
  GetRecordsRequest,
  IntegrationPort,
  ReadChangesRequest,
  UpsertBatchRequest,
} from '@pm/integration-port';

/**
 * An `IntegrationPort` whose every CRM call first takes its cost from the account's shared `RateBudget`, and whose
 * sessions report the CRM's rate-limit headers back to it. Wrapping the port once keeps budgeting out of both the
 * engine (which knows no CRM) and the connectors (which never wait or retry).
 */
export function rateLimitedPort(
  port: IntegrationPort,
  budget: RateBudget,
  priority: RatePriority,
): IntegrationPort {
  const capabilities = port.capabilities();
  const perRequest = Math.max(1, capabilities.writeRecordsPerRequest ?? capabilities.maxWriteBatch);
  const withBudget = async <T>(
    cost: number,
    session: CrmSession,
    call: (session: CrmSession) => Promise<T>,
  ) => {
    await budget.acquire(cost, priority, { signal: session.signal });
    return call({
      ...session,
      onRateLimit: (observation) => {
        session.onRateLimit?.(observation);
        void budget.report(observation).catch(() => undefined);
      },
    });
  };
  return {
    provider: port.provider,
    capabilities: () => port.capabilities(),
    buildAuthorizeUrl: (request) => port.buildAuthorizeUrl(request),
    exchangeCode: (request) => port.exchangeCode(request),
    refreshTokens: (refreshToken, previous) => port.refreshTokens(refreshToken, previous),
    revokeToken: (token, session) => port.revokeToken(token, session),
    parseWebhook: (request, secrets) => port.parseWebhook(request, secrets),
    describeObject: (session, object): Promise<FieldDescriptor[]> =>
      withBudget(1, session, (s) => port.describeObject(s, object)),
    readChanges: (session, request: ReadChangesRequest): Promise<ChangePage> =>
      withBudget(1, session, (s) => port.readChanges(s, request)),
    upsertBatch: (session, request: UpsertBatchRequest) =>
      withBudget(Math.ceil(request.records.length / perRequest), session, (s) =>
        port.upsertBatch(s, request),
      ),
    findByEmail: (session, object, emails): Promise<CrmRecord[]> =>
      withBudget(Math.ceil(emails.length / perRequest), session, (s) => port.findByEmail(s, object, emails)),
    getRecords: (session, request: GetRecordsRequest): Promise<CrmRecord[]> =>
      withBudget(Math.ceil(request.ids.length / perRequest), session, (s) => port.getRecords(s, request)),
    deleteRecords: (session, request: DeleteRecordsRequest) =>
      withBudget(Math.ceil(request.ids.length / perRequest), session, (s) => port.deleteRecords(s, request)),
    logActivities: (session, activities: ActivityInput[]) =>
      withBudget(Math.ceil(activities.length / perRequest), session, (s) =>
        port.logActivities(s, activities),
      ),
  };
}
