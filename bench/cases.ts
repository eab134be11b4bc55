import { performance } from 'node:perf_hooks';
import type { BenchCrm, BenchPerson, RealLimit } from './crms';
import { RunTimeoutError, type BenchSandbox, type BenchService, type SyncRunView } from './harness';
import { minimumCalls, NO_READ } from './minimum';

export type Direction = 'to_crm' | 'from_crm';
export const DIRECTION_LABEL: Record<Direction, string> = {
  to_crm: 'PenguinMails→CRM',
  from_crm: 'CRM→PenguinMails',
};

/** One measured sync run (or naive export) of one case. */
export interface PhaseSample {
  wallMs: number;
  /** Records the run wrote on either side (the run's own counts), or the records exported. */
  records: number;
  /** Requests the sandbox counted during the phase. */
  calls: number;
  /** The fewest requests the phase could take (see `minimumCalls`). */
  minCalls: number;
  /** 429s the sandbox answered during the phase. */
  calls429: number;
  /** CPU time of this process (the service; the in-process sandbox too) during the phase. */
  cpuMs: number;
  /** The requests by route (`METHOD /route`), as the sandbox counted them. */
  byRoute: Record<string, number>;
  status: string;
  error?: string;
}

let tenantSequence = 0;
function newTenant(prefix: string): string {
  tenantSequence += 1;
  return `bench-${prefix}-${process.pid}-${Date.now().toString(36)}-${tenantSequence}`;
}

export function benchPeople(count: number, tag: string): BenchPerson[] {
  return Array.from({ length: count }, (_, i) => ({
    email: `${tag}.${String(i).padStart(6, '0')}@bench.example`,
    firstName: `First${i}`,
    lastName: `Last${i}`,
  }));
}

/** Records a run wrote: created + updated + deleted over both directions and every object. */
export function recordsWritten(run: SyncRunView): number {
  let total = 0;
  for (const byObject of Object.values(run.counts ?? {})) {
    for (const counts of Object.values(byObject ?? {})) {
      total += (counts.created ?? 0) + (counts.updated ?? 0) + (counts.deleted ?? 0);
    }
  }
  return total;
}

function requestsPerWrite(bench: BenchSandbox): number {
  const capabilities = bench.port.capabilities();
  return capabilities.writeRecordsPerRequest ?? capabilities.maxWriteBatch;
}

/** Runs `work` and measures what the sandbox and this process saw meanwhile. */
async function measure(
  bench: BenchSandbox,
  minCalls: number,
  work: () => Promise<{ records: number; status: string; error?: string }>,
): Promise<PhaseSample> {
  const calls = bench.sandbox.counters.total();
  const before = bench.sandbox.counters.snapshot().byRoute;
  const refused = bench.refusals();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await work();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return {
    wallMs,
    records: result.records,
    calls: bench.sandbox.counters.total() - calls,
    byRoute: Object.fromEntries(
      Object.entries(bench.sandbox.counters.snapshot().byRoute)
        .map(([route, count]) => [route, count - (before[route] ?? 0)] as const)
        .filter(([, count]) => count > 0),
    ),
    minCalls,
    calls429: bench.refusals() - refused,
    cpuMs: (used.user + used.system) / 1000,
    status: result.status,
    ...(result.error ? { error: result.error } : {}),
  };
}

async function syncPhase(
  service: BenchService,
  bench: BenchSandbox,
  tenantId: string,
  connectionId: string,
  minCalls: number,
  timeoutMs: number,
  progress?: () => Promise<{ written: number; expected: number }>,
): Promise<PhaseSample> {
  return measure(bench, minCalls, async () => {
    const run = await service.syncNow(tenantId, connectionId, timeoutMs).catch(async (error: unknown) => {
      if (!(error instanceof RunTimeoutError) || !progress) throw error;
      // Say how far it got, then stop it so it spends nothing of the next case.
      const done = await progress();
      const seconds = error.timeoutMs / 1000;
      await service.abandon(tenantId, connectionId, error.runId).catch(() => undefined);
      throw new Error(
        `timed out after ${seconds.toFixed(0)} s with ${done.written} of ${done.expected} records written ` +
          `(${(done.written / seconds).toFixed(1)}/s)`,
      );
    });
    return {
      records: recordsWritten(run),
      status: run.status,
      ...(run.status === 'succeeded' ? {} : { error: run.error ?? run.status }),
    };
  });
}

/** A fresh tenant connected to an emptied sandbox, with `count` contacts on the side the direction starts from. */
async function prepare(service: BenchService, crm: BenchCrm, direction: Direction, count: number) {
  const bench = service.sandboxFor(crm);
  bench.sandbox.reset();
  const tenantId = newTenant(crm.id);
  const connectionId = await service.connect(tenantId, crm);
  if (direction === 'to_crm') await service.seedLocalPeople(tenantId, count);
  else crm.seed(bench.sandbox, count);
  // The connect flow's own requests (token exchange, account lookup) are not the sync's.
  bench.sandbox.counters.reset();
  return { bench, tenantId, connectionId };
}

/** A phase that could not be measured, carrying why. */
function notRun(reason: string): PhaseSample {
  return {
    wallMs: 0,
    records: 0,
    calls: 0,
    minCalls: 0,
    calls429: 0,
    cpuMs: 0,
    byRoute: {},
    status: 'not run',
    error: `not run: ${reason}`,
  };
}

async function failureAsSample(phase: () => Promise<PhaseSample>): Promise<PhaseSample> {
  try {
    return await phase();
  } catch (error) {
    return { ...notRun(''), status: 'failed', error: error instanceof Error ? error.message : String(error) };
  }
}

export interface SyncCaseResult {
  /** The tenant the case synced, for checks on what it left behind. */
  tenantId: string;
  first: PhaseSample;
  incremental?: PhaseSample;
  noop?: PhaseSample;
}

/**
 * First sync of `count` contacts in one direction, then 1% changed on each side (a user edits them in PenguinMails
 * and in the CRM) and an incremental run, then a run with nothing to do.
 */
export async function runSyncCase(
  service: BenchService,
  crm: BenchCrm,
  direction: Direction,
  count: number,
  timeoutMs: number,
  options: { firstOnly?: boolean } = {},
): Promise<SyncCaseResult> {
  const { bench, tenantId, connectionId } = await prepare(service, crm, direction, count);
  const first = await syncPhase(
    service,
    bench,
    tenantId,
    connectionId,
    direction === 'to_crm'
      ? minimumCalls(bench, count, NO_READ)
      : minimumCalls(bench, 0, { returned: count, alreadySynced: 0, fromCursor: false }),
    timeoutMs,
    async () => ({
      written: direction === 'to_crm' ? crm.ids(bench.sandbox).length : await service.localCount(tenantId),
      expected: count,
    }),
  );
  const firstEnded = performance.now();
  if (options.firstOnly) return { tenantId, first };
  if (first.error) {
    const skipped = notRun('the first sync did not succeed');
    return { tenantId, first, incremental: skipped, noop: skipped };
  }

  // The next run starts once the CRM's index shows the first sync's writes, as a scheduled run would.
  const lagLeft = (crm.indexLagMs ?? 0) - (performance.now() - firstEnded);
  if (lagLeft > 0) await new Promise((resolve) => setTimeout(resolve, lagLeft));
  const changed = Math.max(1, Math.round(count / 100));
  // The CRM's newest records, and local contacts not linked to them: each edit is a change of its own.
  const crmIds = crm.ids(bench.sandbox).slice(-changed);
  const localIds = await service.localIds(tenantId, changed, connectionId, crmIds);
  for (const [i, id] of localIds.entries()) await service.editLocal(tenantId, id, `EditedInPm${i}`);
  for (const [i, id] of crmIds.entries()) crm.edit(bench.sandbox, id, `EditedInCrm${i}`);
  const incremental = await failureAsSample(() =>
    syncPhase(
      service,
      bench,
      tenantId,
      connectionId,
      // The CRM-side edits are on records the first sync wrote (PenguinMails→CRM), which the read returns anyway.
      minimumCalls(
        bench,
        localIds.length,
        direction === 'to_crm'
          ? { returned: count, alreadySynced: count - crmIds.length, fromCursor: false }
          : { returned: crmIds.length, alreadySynced: 0, fromCursor: true },
      ),
      timeoutMs,
    ),
  );
  if (incremental.error)
    return { tenantId, first, incremental, noop: notRun('the incremental run did not succeed') };
  const noop = await failureAsSample(() =>
    syncPhase(
      service,
      bench,
      tenantId,
      connectionId,
      // The incremental run's own writes read back, and (HubSpot) the CRM edits made just before its read, which
      // were within the search index's lag.
      minimumCalls(bench, 0, {
        returned: localIds.length + (crm.reads.rereadsIndexLag ? crmIds.length : 0),
        alreadySynced: localIds.length + (crm.reads.rereadsIndexLag ? crmIds.length : 0),
        fromCursor: true,
      }),
      timeoutMs,
    ),
  );
  return { tenantId, first, incremental, noop };
}

export interface RealLimitResult extends PhaseSample {
  limit: string;
  /**
   * Records per second the limit allows at full requests: writes, allowed requests/s × records per request; reads,
   * allowed read requests/s × records per read page.
   */
  ceilingPerSecond: number;
}

/** Records per second `limit` allows in `direction`: requests per second × records each request carries. */
export function realLimitCeiling(bench: BenchSandbox, limit: RealLimit, direction: Direction): number {
  return direction === 'to_crm'
    ? limit.requestsPerSecond * requestsPerWrite(bench)
    : (limit.readRequestsPerSecond ?? limit.requestsPerSecond) * bench.port.capabilities().maxReadPage;
}

/**
 * The first sync of `count` contacts in `direction` (an export of contacts created in PenguinMails, or an import of
 * contacts already in the CRM) while the sandbox enforces the CRM's documented limits.
 */
export async function runRealLimitCase(
  service: BenchService,
  crm: BenchCrm,
  direction: Direction,
  count: number,
  timeoutMs: number,
): Promise<RealLimitResult> {
  const { bench, tenantId, connectionId } = await prepare(service, crm, direction, count);
  const limiters = crm.limiters(bench.sandbox);
  const saved = limiters.map((limiter) => ({ ...limiter.config }));
  let limit: RealLimit | undefined;
  try {
    limit = crm.enforceRealLimits(bench.sandbox);
    const sample = await syncPhase(
      service,
      bench,
      tenantId,
      connectionId,
      direction === 'to_crm'
        ? minimumCalls(bench, count, NO_READ)
        : minimumCalls(bench, 0, { returned: count, alreadySynced: 0, fromCursor: false }),
      timeoutMs,
      async () => ({
        written: direction === 'to_crm' ? crm.ids(bench.sandbox).length : await service.localCount(tenantId),
        expected: count,
      }),
    );
    return { ...sample, limit: limit.describe, ceilingPerSecond: realLimitCeiling(bench, limit, direction) };
  } finally {
    limiters.forEach((limiter, i) => limiter.configure(saved[i], true));
  }
}

/** The same export done the naive way: the official SDK, one create per contact, against the same sandbox. */
export async function runNaiveExport(
  service: BenchService,
  crm: BenchCrm,
  count: number,
): Promise<PhaseSample> {
  const bench = service.sandboxFor(crm);
  bench.sandbox.reset();
  const people = benchPeople(count, newTenant(`naive-${crm.id}`));
  return measure(bench, minimumCalls(bench, count, NO_READ), async () => {
    await crm.naiveExport(bench.sandbox, people);
    return { records: count, status: 'succeeded' };
  });
}
