// The real-time rows (issue 16 item 6, issue 15): end-to-end lag under 1,000 changes a minute per connection, each
// way, against the service as deployed. Registered in crm-child.ts behind `--only realtime`.
import { performance } from 'node:perf_hooks';
import type { BenchCrm } from './crms';
import type { BenchSandbox, BenchService } from './harness';
import type { BenchOptions } from './options';
import type { RowBuilder, RowSet } from './rows';
import { percentile } from './stats';

/** The load per direction and connection the issue names. */
const CHANGES_PER_MINUTE = 1_000;
/** After the last change, how long the case waits for the stragglers before it reports them as not seen. */
const DRAIN_MS = 60_000;
/** How often the watchers look: the change feed over HTTP, the sandbox's records in process. */
const FEED_POLL_MS = 100;
const SANDBOX_POLL_MS = 50;
const INBOUND = /^Lag(\d+)$/;
const OUTBOUND = /^Push(\d+)$/;

let sequence = 0;
const newTenant = (crm: BenchCrm) =>
  `bench-rt-${crm.id}-${process.pid}-${Date.now().toString(36)}-${++sequence}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When each change was made and when it was first seen on the other side (ms, performance clock). */
class LagLog {
  readonly madeAt: number[] = [];
  readonly seenAt: Array<number | undefined> = [];

  constructor(readonly expected: number) {}

  made(index: number, at: number): void {
    this.madeAt[index] = at;
  }

  seen(index: number, at: number): void {
    if (index < this.expected && this.seenAt[index] === undefined) this.seenAt[index] = at;
  }

  seenCount(): number {
    return this.seenAt.filter((at) => at !== undefined).length;
  }

  lags(): number[] {
    return this.madeAt.flatMap((made, index) => {
      const seen = this.seenAt[index];
      return seen === undefined ? [] : [Math.max(0, seen - made)];
    });
  }
}

interface ChangePage {
  data: Array<{ values: Record<string, string | null> }>;
  nextCursor: string;
  hasMore: boolean;
}

/**
 * One connection with real-time on, both directions at once at 1,000 changes a minute each (`realtimeChanges` per
 * direction): CRM → PenguinMails, a user's edit in the CRM (its signed webhook → the receiver → a change hint → the
 * targeted sync) until the change feed of the service API shows it; PenguinMails → CRM, a PATCH through the contacts
 * API (immediate push, debounced per record) until the sandbox holds it. Each change touches its own contact, so
 * none hides another. Also the service's own lag figures (GET …/realtime, over its latest applied hints).
 */
export async function runRealtimeCases(
  service: BenchService,
  crm: BenchCrm,
  options: BenchOptions,
  rows: RowSet,
  log: (line: string) => void,
): Promise<void> {
  const realtime = crm.realtime;
  if (!realtime) return;
  const changes = options.realtimeChanges;
  const windowMs = (changes / CHANGES_PER_MINUTE) * 60_000;
  const load = `${changes.toLocaleString('en-US')} over ${windowMs / 1000} s`;
  const inboundRow = rows.row(
    'realtime',
    crm.label,
    `CRM→PenguinMails: CRM edit → change feed (webhook, targeted sync), ${load}`,
    changes,
  );
  const outboundRow = rows.row(
    'realtime',
    crm.label,
    `PenguinMails→CRM: API write → CRM (immediate push), ${load}`,
    changes,
  );
  const bench = service.sandboxFor(crm);

  for (let run = 1; run <= options.runs; run++) {
    log(`${crm.label}: real-time run ${run}/${options.runs}`);
    await rows.attempt(`${crm.label} real-time lag`, [inboundRow, outboundRow], async () => {
      bench.sandbox.reset();
      const tenantId = newTenant(crm);
      const connectionId = await service.connect(tenantId, crm);
      const base = `/api/v1/tenants/${tenantId}`;
      // Contacts already in the CRM, brought in by the first sync (reads only: cheap at any CRM's pace).
      crm.seed(bench.sandbox, 2 * changes);
      const linking = await service.syncNow(tenantId, connectionId, options.runTimeoutMs);
      if (linking.status !== 'succeeded') throw new Error(`the linking sync ${linking.status}`);
      await service.api('PATCH', `${base}/connections/${connectionId}/settings`, { realtime: true });
      realtime.subscribe?.(bench.sandbox, service.url);

      // Half of the contacts change in the CRM, the other half through the API.
      const inCrm = realtime.contacts(bench.sandbox);
      const crmIds = inCrm.slice(0, changes).map((contact) => contact.id);
      const outboundEmails = new Set(
        inCrm.slice(changes).map((contact) => (contact.email ?? '').trim().toLowerCase()),
      );
      const localIds = (await service.localContacts(tenantId))
        .filter((contact) => outboundEmails.has(contact.email))
        .map((contact) => contact.id);
      if (crmIds.length < changes || localIds.length < changes)
        throw new Error(`linked ${crmIds.length} CRM and ${localIds.length} local contacts of ${changes}`);

      let { nextCursor: cursor } = await service.api<ChangePage>(
        'GET',
        `${base}/contacts/changes?cursor=now&limit=1`,
      );
      const inbound = new LagLog(changes);
      const outbound = new LagLog(changes);
      bench.sandbox.counters.reset();
      const refusedBefore = bench.refusals();
      const cpu = process.cpuUsage();
      const started = performance.now();
      const interval = windowMs / changes;
      const writes: Promise<unknown>[] = [];

      const crmEdits = async () => {
        for (let i = 0; i < changes; i++) {
          const wait = started + i * interval - performance.now();
          if (wait > 0) await sleep(wait);
          inbound.made(i, performance.now());
          crm.edit(bench.sandbox, crmIds[i], `Lag${i}`);
        }
      };
      const apiWrites = async () => {
        for (let i = 0; i < changes; i++) {
          const wait = started + i * interval - performance.now();
          if (wait > 0) await sleep(wait);
          outbound.made(i, performance.now());
          // Not awaited: the writes keep their pace whatever one request takes.
          writes.push(service.api('PATCH', `${base}/contacts/${localIds[i]}`, { lastName: `Push${i}` }));
        }
        await Promise.all(writes);
      };
      const done = () => inbound.seenCount() >= changes && outbound.seenCount() >= changes;
      const deadline = started + windowMs + DRAIN_MS;
      const watchFeed = async () => {
        while (!done() && performance.now() < deadline) {
          const page = await service.api<ChangePage>(
            'GET',
            `${base}/contacts/changes?cursor=${encodeURIComponent(cursor)}&limit=1000`,
          );
          const at = performance.now();
          for (const change of page.data) {
            const match = INBOUND.exec(change.values.lastName ?? '');
            if (match) inbound.seen(Number(match[1]), at);
          }
          cursor = page.nextCursor;
          if (!page.hasMore) await sleep(FEED_POLL_MS);
        }
      };
      const watchCrm = async () => {
        while (!done() && performance.now() < deadline) {
          const at = performance.now();
          for (const contact of realtime.contacts(bench.sandbox)) {
            const match = OUTBOUND.exec(contact.lastName ?? '');
            if (match) outbound.seen(Number(match[1]), at);
          }
          // The watcher shares the process with the service: a look that costs more than the poll interval (2,000
          // Pipedrive persons take ~40 ms to build) is spaced out so that it keeps at most a third of the process.
          await sleep(Math.max(SANDBOX_POLL_MS, 2 * (performance.now() - at)));
        }
      };
      await Promise.all([crmEdits(), apiWrites(), watchFeed(), watchCrm()]);
      const wallMs = performance.now() - started;
      const used = process.cpuUsage(cpu);
      const status = await service.api<{ lagP50Ms: number | null; lagP95Ms: number | null }>(
        'GET',
        `${base}/connections/${connectionId}/realtime`,
      );
      const calls = bench.sandbox.counters.total();
      const shared = {
        wallMs,
        calls,
        minCalls: 0,
        calls429: bench.refusals() - refusedBefore,
        cpuMs: (used.user + used.system) / 1000,
        byRoute: bench.sandbox.counters.snapshot().byRoute,
        status: 'succeeded',
      };
      report(inboundRow, inbound, shared, webhookSummary(bench.sandbox.webhooks));
      report(outboundRow, outbound, shared);
      inboundRow.note('serviceLagP50Ms', status.lagP50Ms);
      inboundRow.note('serviceLagP95Ms', status.lagP95Ms);
      log(
        `  ${crm.label}: CRM→PM p50 ${fmt(percentile(inbound.lags(), 50))} p95 ${fmt(percentile(inbound.lags(), 95))} ` +
          `(service ${fmt(status.lagP50Ms)}/${fmt(status.lagP95Ms)}), PM→CRM p50 ${fmt(percentile(outbound.lags(), 50))} ` +
          `p95 ${fmt(percentile(outbound.lags(), 95))}, ${calls} CRM calls`,
      );
    });
  }
}

const fmt = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(2)} s`);

/** What the sandbox's webhook deliveries came to, for a case where changes went unseen. */
function webhookSummary(webhooks: BenchSandbox['sandbox']['webhooks']): string {
  const byStatus = new Map<string, number>();
  for (const delivery of webhooks.deliveries()) {
    const key = delivery.status === undefined ? (delivery.error ?? 'no answer') : String(delivery.status);
    byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
  }
  const answers = [...byStatus].map(([status, count]) => `${count} × ${status}`).join(', ');
  return `webhooks: ${webhooks.subscriptions().length} subscription(s), deliveries ${answers || 'none'}`;
}

function report(
  row: RowBuilder,
  lagLog: LagLog,
  shared: Omit<Parameters<RowBuilder['add']>[0], 'records'>,
  diagnosis?: string,
): void {
  const lags = lagLog.lags();
  const seen = lagLog.seenCount();
  row.add({
    ...shared,
    records: seen,
    ...(seen < lagLog.expected
      ? {
          error:
            `${lagLog.expected - seen} of ${lagLog.expected} changes not seen within ${DRAIN_MS / 1000} s` +
            (diagnosis ? ` (${diagnosis})` : ''),
        }
      : {}),
  });
  row.note('lagP50Ms', percentile(lags, 50));
  row.note('lagP95Ms', percentile(lags, 95));
  row.note('lagMaxMs', lags.length ? Math.max(...lags) : null);
}
