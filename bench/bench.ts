import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { PhaseSample } from './cases';
import { benchCrm, type BenchCrm } from './crms';
import type { BenchOptions, BenchSection } from './options';
import { message, RowSet, type BenchRow } from './rows';

export type { BenchRow } from './rows';

export interface BenchResults {
  meta: {
    size: string;
    count: number;
    runs: number;
    /** CRMs run side by side (`--parallel`). */
    parallel: number;
    startedAt: string;
    durationMs: number;
    node: string;
    /** 1-minute load average at the start and the end: figures taken on a busy machine say so. */
    loadAverage: { start: number; end: number };
    cpus: number;
    cpuModel: string;
    notes: string[];
  };
  rows: BenchRow[];
  notBuilt: string[];
}

const NOTES = [
  'CRM calls are the requests each sandbox counted during the run; min = ⌈writes / records per request⌉ + ⌈records the change read returns / read page⌉ (at least one; the previous run’s own writes come back once: no CRM’s change read leaves them out) + where the mapping reads the contact’s company: HubSpot’s association ids (1,000 a request, for records not unchanged since the service wrote them) and the companies themselves (Pipedrive’s organizations, 100 a request) + HubSpot’s recycle-bin page on a read from a cursor; HubSpot’s next read also looks back over its search index lag (bench/minimum.ts).',
  'Wall time is end to end: "Sync now" over the HTTP API until the sync runs list shows the run finished (pg-boss worker polling every 0.5 s included).',
  'sync: the service as deployed (its PgRateBudget plans from the connector’s declared limits), sandboxes counting but not enforcing limits.',
  'limits: the sandbox enforces the CRM’s documented limits; ceiling = allowed requests/s × records per request.',
  'overhead and memory: the service’s rate budget off and the sandbox not enforcing; overhead CPU includes the in-process sandbox (not PostgreSQL).',
  'memory: one process per case running the service (HTTP API and sync worker) for one first sync, its CRM sandbox in another process; peak RSS is that process’s (getrusage), after boot = its RSS once the contacts are loaded; figures: peak heapUsed, external and arrayBuffers (sampled every 100 ms), and the sandbox process’s own peak RSS.',
  'peers: the official SDK creating one record per call against the same sandbox; ratio = service records/s ÷ naive records/s (both unthrottled).',
  'Each CRM’s cases run in a process of their own (small: two CRMs at a time, Pipedrive beside Salesforce then HubSpot; otherwise one at a time), then each memory case; a run that overran its case is reported with how far it got.',
  'HubSpot: the incremental run starts 10 s (the search index lag its connector allows for) after the first sync, as a scheduled run would; the no-op follows it at once.',
  'real-time: one connection with real-time on, both directions at once, each at 1,000 changes a minute (small: 200 over 12 s), one contact per change; lag = CRM edit → the change feed of the service API shows it (webhook, change hint, targeted sync), and API PATCH sent → the sandbox holds it (immediate push, its 2 s per-record debounce included); "service" = GET …/realtime over its latest 200 applied hints (the CRM’s event time → applied).',
  'The file keeps the figures of issue 16 as filed under "before"; each run replaces the rest.',
];

const NOT_BUILT: string[] = [];

/**
 * Runs the benchmark: each CRM's cases in a child process of their own (its sandbox, the service and a fresh
 * database on `databaseServerUrl`), then the memory cases, one child process each.
 */
export async function runBench(
  options: BenchOptions,
  databaseServerUrl: string,
  log: (line: string) => void = () => undefined,
): Promise<BenchResults> {
  const startedAt = Date.now();
  const loadAtStart = loadavg()[0];
  const crms: BenchCrm[] = options.crms.map(benchCrm);
  const inProcess = options.sections.filter((section) => section !== 'memory');
  const rows: BenchRow[] = [];

  // One queue of child processes, run `options.parallel` at a time: each CRM's cases (longest first, so the lanes
  // end together: Pipedrive's sync cases are paced by its rate budget), then the memory cases, which start as soon as
  // a lane is free (each is a process of its own with its sandbox in another: side by side, its peak stays its own).
  const jobs: Array<() => Promise<void>> = [];
  const rowsByCrm = new Map<string, BenchRow[]>();
  if (inProcess.length) {
    const longestFirst = [...crms].sort(
      (a, b) => Number(b.id === 'pipedrive') - Number(a.id === 'pipedrive'),
    );
    for (const crm of longestFirst) {
      jobs.push(async () => {
        log(`${crm.label}: starting its sandbox, the service and a database`);
        try {
          const crmOptions = { ...options, sections: inProcess };
          rowsByCrm.set(crm.id, await runCrmChild(crm, crmOptions, databaseServerUrl, log));
        } catch (error) {
          log(`${crm.label}: FAILED ${message(error)}`);
          rowsByCrm.set(crm.id, failedRows(crm, inProcess, options, message(error)));
        }
      });
    }
  }
  const memoryRows = new RowSet(log);
  if (options.sections.includes('memory')) {
    const flags = serviceNodeFlags().join(' ');
    const label = `PenguinMails→CRM first sync (own process${flags ? `, ${flags}` : ''})`;
    for (const count of options.memoryCounts) {
      for (const crm of crms) {
        const builder = memoryRows.row('memory', crm.label, label, count);
        for (let run = 1; run <= options.runs; run++) {
          jobs.push(() =>
            memoryRows.attempt(`${crm.label} memory at ${count}`, [builder], async () => {
              const result = await runMemoryChild(crm, count, options.runTimeoutMs, databaseServerUrl);
              builder.add(result.sample);
              builder.peak.push(result.peakRssMb);
              builder.baseline.push(result.baselineRssMb);
              builder.note('heapUsedPeakMb', result.heapUsedMb);
              builder.note('externalPeakMb', result.externalMb);
              builder.note('arrayBuffersPeakMb', result.arrayBuffersMb);
              builder.note('sandboxPeakRssMb', result.sandboxPeakRssMb);
            }),
          );
        }
      }
    }
  }
  await inLanes(jobs, options.parallel, (job) => job());
  for (const crm of crms) rows.push(...(rowsByCrm.get(crm.id) ?? []));
  rows.push(...memoryRows.build());

  return {
    meta: {
      size: options.size,
      count: options.count,
      runs: options.runs,
      parallel: options.parallel,
      startedAt: new Date(startedAt).toISOString(),
      durationMs: Date.now() - startedAt,
      node: process.version,
      loadAverage: { start: loadAtStart, end: loadavg()[0] },
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      notes: NOTES,
    },
    rows,
    notBuilt: NOT_BUILT,
  };
}

/** Runs `work` for each item, at most `lanes` at a time, each lane taking the next item when it is free. */
async function inLanes<T>(
  items: readonly T[],
  lanes: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  const lane = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(lanes, queue.length) }, lane));
}

/** One row per asked-for section saying why none of a CRM's cases ran. */
function failedRows(
  crm: BenchCrm,
  sections: BenchSection[],
  options: BenchOptions,
  error: string,
): BenchRow[] {
  const set = new RowSet(() => undefined);
  for (const section of sections) set.row(section, crm.label, 'all cases', options.count).errors.push(error);
  return set.build();
}

/** Longest a CRM's child may take: every case timing out, plus starting and stopping. */
function crmChildTimeoutMs(options: BenchOptions): number {
  // overhead ×2, peers, sync 2 directions × 3 phases, limits ×2, activities ×2, real-time
  const runsPerRound = 2 + 1 + 2 * 3 + 2 + 2 + 1;
  return options.runs * runsPerRound * (options.runTimeoutMs + 20_000) + 120_000;
}

/**
 * The Node.js flags `npm start` runs the service with (package.json's start script), so a memory case measures the
 * process as deployed.
 */
export function serviceNodeFlags(
  scripts: Record<string, string> = (
    JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts,
): string[] {
  const match = /\bnode((?:\s+--\S+)*)\s+dist\/src\/main\.js/.exec(scripts.start ?? '');
  return match ? match[1].trim().split(/\s+/).filter(Boolean) : [];
}

function runChild(
  script: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
  log?: (line: string) => void,
  nodeFlags: string[] = [],
): Promise<string> {
  const node = [
    process.execPath,
    ...nodeFlags,
    '-r',
    join(__dirname, 'register.cjs'),
    join(__dirname, script),
  ];
  return new Promise((resolve, reject) => {
    const child = execFile(
      node[0],
      [...node.slice(1), ...args],
      {
        env: { ...process.env, ...env },
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        if (line.startsWith('{') || line.startsWith('[')) return resolve(line);
        const reason = error?.killed
          ? `killed after ${Math.round(timeoutMs / 1000)} s`
          : (stderr.trim().split('\n').pop() ?? error?.message ?? 'no output');
        reject(new Error(`${script} failed: ${reason}`));
      },
    );
    if (log) child.stderr?.on('data', (chunk: Buffer) => chunk.toString().trimEnd().split('\n').forEach(log));
  });
}

async function runCrmChild(
  crm: BenchCrm,
  options: BenchOptions,
  databaseServerUrl: string,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const output = await runChild(
    'crm-child.ts',
    [crm.id],
    { BENCH_DATABASE_SERVER: databaseServerUrl, BENCH_OPTIONS: JSON.stringify(options) },
    crmChildTimeoutMs(options),
    log,
  );
  return JSON.parse(output) as BenchRow[];
}

interface MemoryChildResult {
  baselineRssMb: number;
  peakRssMb: number;
  heapUsedMb: number;
  externalMb: number;
  arrayBuffersMb: number;
  sandboxPeakRssMb: number;
  sample: PhaseSample;
}

/** Runs one memory case in a child process (its own maxRSS), on the same database server. */
async function runMemoryChild(
  crm: BenchCrm,
  count: number,
  timeoutMs: number,
  databaseServerUrl: string,
): Promise<MemoryChildResult> {
  const output = await runChild(
    'memory-child.ts',
    [crm.id, String(count), String(timeoutMs)],
    { BENCH_DATABASE_SERVER: databaseServerUrl },
    timeoutMs + 120_000,
    undefined,
    serviceNodeFlags(),
  );
  return JSON.parse(output) as MemoryChildResult;
}
