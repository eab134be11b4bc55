// The activity rows (issue 16 item 5): how fast the ingest route accepts e-mail events, and how fast delivery
// writes them into each CRM against its documented ceiling. Registered in crm-child.ts behind `--only activities`.
import { performance } from 'node:perf_hooks';
import { requestsFor } from '../src/crm-integrations/rate-limits/rate-limited-port';
import { benchPeople, type PhaseSample } from './cases';
import type { BenchCrm } from './crms';
import type { BenchService } from './harness';
import type { BenchOptions } from './options';
import type { RowSet } from './rows';

/** Events per ingest request (the route's limit) and requests in flight at once, as a busy backend would send. */
const EVENTS_PER_REQUEST = 1_000;
const REQUESTS_IN_FLIGHT = 4;
/** Contacts the delivered events are spread over. */
const DELIVERY_CONTACTS = 20;

let sequence = 0;
const newTenant = (what: string, crm: BenchCrm) =>
  `bench-act-${what}-${crm.id}-${process.pid}-${Date.now().toString(36)}-${++sequence}`;

/** The service's HTTP API with the bench's platform token (BenchService keeps its caller private). */
function api<T>(
  service: BenchService,
  method: string,
  path: string,
  body?: unknown,
  expected = [200],
): Promise<T> {
  type Caller = { api: (m: string, p: string, b: unknown, e: number[]) => Promise<T> };
  return (service as unknown as Caller).api(method, path, body, expected);
}

function sentEvents(tenantId: string, count: number, emails: string[]): Record<string, unknown>[] {
  const at = new Date().toISOString();
  return Array.from({ length: count }, (_, n) => ({
    eventId: `${tenantId}-e${n}`,
    type: 'sent',
    messageId: `<${tenantId}-m${n}@bench.example>`,
    campaignId: 'bench',
    email: emails[n % emails.length],
    subject: `Bench message ${n}`,
    occurredAt: at,
  }));
}

/** Posts the events in requests of 1,000, `REQUESTS_IN_FLIGHT` at once; returns how many were accepted. */
async function ingestAll(service: BenchService, tenantId: string, events: Record<string, unknown>[]) {
  const chunks: Record<string, unknown>[][] = [];
  for (let start = 0; start < events.length; start += EVENTS_PER_REQUEST)
    chunks.push(events.slice(start, start + EVENTS_PER_REQUEST));
  let accepted = 0;
  let next = 0;
  const lane = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++];
      const answer = await api<{ accepted: number }>(
        service,
        'POST',
        `/api/v1/tenants/${tenantId}/activities`,
        { events: chunk },
        [207],
      );
      accepted += answer.accepted;
    }
  };
  await Promise.all(Array.from({ length: REQUESTS_IN_FLIGHT }, lane));
  return accepted;
}

async function sample(
  service: BenchService,
  crm: BenchCrm,
  minCalls: number,
  work: () => Promise<{ records: number; error?: string }>,
): Promise<PhaseSample> {
  const bench = service.sandboxFor(crm);
  bench.sandbox.counters.reset();
  const refusedBefore = bench.refusals();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await work();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const counted = bench.sandbox.counters.snapshot();
  return {
    wallMs,
    records: result.records,
    calls: bench.sandbox.counters.total(),
    minCalls,
    calls429: bench.refusals() - refusedBefore,
    cpuMs: (used.user + used.system) / 1000,
    byRoute: counted.byRoute,
    status: result.error ? 'failed' : 'succeeded',
    error: result.error,
  };
}

/**
 * Ingest: `options.count` events into a tenant whose connection logs activities but has no linked contacts (the
 * worker only holds them, so no CRM write competes): events/s accepted over HTTP, and the CRM calls the ingest made
 * (none: it never waits on a CRM). Delivery: `options.limitsCount` sends to contacts a sync linked, with the
 * sandbox enforcing the CRM's documented limits, from the first ingest call until the summary shows every event
 * logged; ceiling = allowed requests/s × activities per request.
 */
export async function runActivityCases(
  service: BenchService,
  crm: BenchCrm,
  options: BenchOptions,
  rows: RowSet,
  log: (line: string) => void,
): Promise<void> {
  const ingestRow = rows.row(
    'activities',
    crm.label,
    'ingest: events accepted over HTTP (1,000 a request, 4 in flight)',
    options.count,
  );
  const deliveryRow = rows.row(
    'activities',
    crm.label,
    'delivery at the real limits (ingest → all logged)',
    options.limitsCount,
  );
  const bench = service.sandboxFor(crm);
  const capabilities = bench.port.capabilities();
  const perCall = capabilities.maxWriteBatch;
  const activitiesPerRequest = perCall / requestsFor(capabilities, 'logActivities', perCall);

  for (let run = 1; run <= options.runs; run++) {
    log(`${crm.label}: activities run ${run}/${options.runs}`);
    await rows.attempt(`${crm.label} activity ingest`, [ingestRow], async () => {
      bench.sandbox.reset();
      const tenantId = newTenant('ingest', crm);
      await service.connect(tenantId, crm);
      const events = sentEvents(
        tenantId,
        options.count,
        benchPeople(100, tenantId).map((p) => p.email),
      );
      ingestRow.add(
        await sample(service, crm, 0, async () => {
          const accepted = await ingestAll(service, tenantId, events);
          return {
            records: accepted,
            error: accepted === events.length ? undefined : `accepted ${accepted} of ${events.length}`,
          };
        }),
      );
    });

    await rows.attempt(`${crm.label} activity delivery at the real limits`, [deliveryRow], async () => {
      bench.sandbox.reset();
      const tenantId = newTenant('delivery', crm);
      const connectionId = await service.connect(tenantId, crm);
      const people = benchPeople(DELIVERY_CONTACTS, tenantId);
      await service.seedLocal(tenantId, people);
      const run = await service.syncNow(tenantId, connectionId, options.runTimeoutMs);
      if (run.status !== 'succeeded') throw new Error(`the linking sync ${run.status}`);
      const events = sentEvents(
        tenantId,
        options.limitsCount,
        people.map((p) => p.email),
      );
      const limiters = crm.limiters(bench.sandbox);
      const saved = limiters.map((limiter) => ({ ...limiter.config }));
      const limit = crm.enforceRealLimits(bench.sandbox);
      try {
        const deadline = Date.now() + options.runTimeoutMs;
        deliveryRow.add(
          await sample(service, crm, Math.ceil(events.length / activitiesPerRequest), async () => {
            await ingestAll(service, tenantId, events);
            const summaryPath = `/api/v1/tenants/${tenantId}/connections/${connectionId}/activities/summary`;
            for (;;) {
              const summary = await api<{ logged: number; failed: number }>(service, 'GET', summaryPath);
              if (summary.logged >= events.length) return { records: summary.logged };
              if (Date.now() > deadline)
                return { records: summary.logged, error: `timed out with ${summary.logged} logged` };
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          }),
        );
        const ceilingPerSecond = limit.requestsPerSecond * activitiesPerRequest;
        deliveryRow.extra = { limit: limit.describe, ceilingPerSecond };
        const last = deliveryRow.samples.at(-1);
        if (last && last.records > 0)
          deliveryRow.ratios.push(last.records / (last.wallMs / 1000) / ceilingPerSecond);
      } finally {
        limiters.forEach((limiter, i) => limiter.configure(saved[i], true));
      }
    });
  }
}
