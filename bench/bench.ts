import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  DIRECTION_LABEL,
  runNaiveExport,
  runRealLimitCase,
  runSyncCase,
  type Direction,
  type PhaseSample,
} from './cases';
import { benchCrm, type BenchCrm } from './crms';
import { BenchService } from './harness';
import type { BenchOptions, BenchSection } from './options';
import { figure, type Figure } from './stats';

/** One line of the report: a case's figures over its runs (median, min, max). */
export interface BenchRow {
  section: BenchSection;
  crm: string;
  case: string;
  count: number;
  /** Runs that produced figures. */
  runs: number;
  wallMs: Figure | null;
  recordsPerSecond: Figure | null;
  /** Records the runs wrote (the run's own counts). */
  records: Figure | null;
  calls: Figure | null;
  minCalls: number | null;
  calls429: Figure | null;
  cpuMsPerRecord: Figure | null;
  /** At the real limits: records/s over the ceiling; peers: the service's records/s over the naive export's. */
  ratio: Figure | null;
  limit?: string;
  ceilingPerSecond?: number;
  peakRssMb?: Figure | null;
  baselineRssMb?: Figure | null;
  errors: string[];
}

export interface BenchResults {
  meta: {
    size: string;
    count: number;
    runs: number;
    startedAt: string;
    durationMs: number;
    node: string;
    cpus: number;
    cpuModel: string;
    notes: string[];
  };
  rows: BenchRow[];
  notBuilt: string[];
}

const NOTES = [
  'CRM calls are the requests each sandbox counted during the run; min = ⌈writes / records per request⌉ + ⌈reads / read page⌉ (at least one read).',
  'Wall time is end to end: "Sync now" over the HTTP API until the sync runs list shows the run finished (pg-boss worker polling every 0.5 s included).',
  'sync: the service as deployed (its PgRateBudget plans from the connector’s declared limits), sandboxes counting but not enforcing limits.',
  'limits: the sandbox enforces the CRM’s documented limits; ceiling = allowed requests/s × records per request.',
  'overhead and memory: the service’s rate budget off and the sandbox not enforcing; CPU and RSS include the in-process sandbox (not PostgreSQL).',
  'peers: the official SDK creating one record per call against the same sandbox; ratio = service records/s ÷ naive records/s (both unthrottled).',
];

const NOT_BUILT = ['activities', 'real-time (webhooks)'];

/** Collects one case's samples over the runs, and its errors. */
class RowBuilder {
  readonly samples: PhaseSample[] = [];
  readonly ratios: number[] = [];
  readonly peak: number[] = [];
  readonly baseline: number[] = [];
  readonly errors: string[] = [];
  extra: Partial<BenchRow> = {};

  constructor(
    readonly section: BenchSection,
    readonly crm: string,
    readonly label: string,
    readonly count: number,
  ) {}

  add(sample: PhaseSample): void {
    if (sample.error) this.errors.push(sample.error);
    else this.samples.push(sample);
  }

  build(): BenchRow {
    const s = this.samples;
    return {
      section: this.section,
      crm: this.crm,
      case: this.label,
      count: this.count,
      runs: s.length,
      wallMs: figure(s.map((x) => x.wallMs)),
      recordsPerSecond: figure(s.map((x) => (x.records > 0 ? x.records / (x.wallMs / 1000) : null))),
      records: figure(s.map((x) => x.records)),
      calls: figure(s.map((x) => x.calls)),
      minCalls: s[0]?.minCalls ?? null,
      calls429: figure(s.map((x) => x.calls429)),
      cpuMsPerRecord: figure(s.map((x) => (x.records > 0 ? x.cpuMs / x.records : null))),
      ratio: figure(this.ratios),
      ...(this.peak.length ? { peakRssMb: figure(this.peak), baselineRssMb: figure(this.baseline) } : {}),
      ...this.extra,
      errors: [...new Set(this.errors)],
    };
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const PHASES = [
  ['first', 'first sync'],
  ['incremental', 'incremental (1% each side)'],
  ['noop', 'no-op'],
] as const;

/** Runs the benchmark in this process (memory cases in child processes) and returns its results. */
export async function runBench(
  options: BenchOptions,
  databaseServerUrl: string,
  log: (line: string) => void = () => undefined,
): Promise<BenchResults> {
  const startedAt = Date.now();
  const crms: BenchCrm[] = options.crms.map(benchCrm);
  const wants = (section: BenchSection) => options.sections.includes(section);
  const rows = new Map<string, RowBuilder>();
  const row = (section: BenchSection, crm: BenchCrm, label: string, count: number) => {
    const key = `${section}|${crm.id}|${label}`;
    if (!rows.has(key)) rows.set(key, new RowBuilder(section, crm.label, label, count));
    return rows.get(key)!;
  };
  const attempt = async (what: string, builders: RowBuilder[], work: () => Promise<void>) => {
    const started = Date.now();
    try {
      await work();
      log(`  ${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      log(`  ${what}: FAILED ${message(error)}`);
      for (const builder of builders) builder.errors.push(message(error));
    }
  };

  // Memory cases run in their own processes, started now so they overlap the in-process cases.
  const memory = wants('memory') ? runMemoryCases(options, crms, databaseServerUrl, row, attempt) : undefined;
  const inProcess = options.sections.some((section) => section !== 'memory');
  const service = inProcess ? await BenchService.start(databaseServerUrl, crms) : undefined;
  try {
    for (let run = 1; service && run <= options.runs; run++) {
      log(`run ${run}/${options.runs}`);
      // Sync and real-limit cases wait on rate budgets and sandboxes far more than they compute: the CRMs run side
      // by side. Their CPU is not reported; the overhead and peer cases below run one at a time.
      service.budget.declaredLimits = true;
      await Promise.all(
        crms.map(async (crm) => {
          if (wants('sync')) {
            for (const direction of ['to_crm', 'from_crm'] as Direction[]) {
              const builders = PHASES.map(([, label]) =>
                row('sync', crm, `${DIRECTION_LABEL[direction]} ${label}`, options.count),
              );
              await attempt(`${crm.label} ${DIRECTION_LABEL[direction]}`, builders, async () => {
                const result = await runSyncCase(
                  service,
                  crm,
                  direction,
                  options.count,
                  options.runTimeoutMs,
                );
                PHASES.forEach(([phase], i) => {
                  const sample = result[phase];
                  if (sample) builders[i].add(sample);
                  else builders[i].errors.push('not run: the first sync did not succeed');
                });
              });
            }
          }
          if (wants('limits')) {
            const builder = row('limits', crm, 'PenguinMails→CRM first sync', options.limitsCount);
            await attempt(`${crm.label} at the real limits`, [builder], async () => {
              const result = await runRealLimitCase(service, crm, options.limitsCount, options.runTimeoutMs);
              builder.add(result);
              builder.extra = { limit: result.limit, ceilingPerSecond: result.ceilingPerSecond };
              if (!result.error && result.records > 0) {
                builder.ratios.push(result.records / (result.wallMs / 1000) / result.ceilingPerSecond);
              }
            });
          }
        }),
      );
      for (const crm of crms) {
        // Limits off: the service's rate budget ignores the declared limits and the sandbox enforces none.
        service.budget.declaredLimits = false;
        const exports: Record<number, PhaseSample> = {};
        if (wants('overhead')) {
          for (const direction of ['to_crm', 'from_crm'] as Direction[]) {
            const builder = row('overhead', crm, `${DIRECTION_LABEL[direction]} first sync`, options.count);
            await attempt(`${crm.label} ${DIRECTION_LABEL[direction]}, limits off`, [builder], async () => {
              const { first } = await runSyncCase(
                service,
                crm,
                direction,
                options.count,
                options.runTimeoutMs,
                {
                  firstOnly: true,
                },
              );
              builder.add(first);
              if (direction === 'to_crm' && !first.error) exports[options.count] = first;
            });
          }
        }
        if (wants('peers')) {
          const ours = row('peers', crm, 'service export (limits off)', options.peerCount);
          const naive = row('peers', crm, 'naive SDK, one call per record', options.peerCount);
          await attempt(`${crm.label} naive SDK export`, [ours, naive], async () => {
            const export_ =
              exports[options.peerCount] ??
              (
                await runSyncCase(service, crm, 'to_crm', options.peerCount, options.runTimeoutMs, {
                  firstOnly: true,
                })
              ).first;
            const peer = await runNaiveExport(service, crm, options.peerCount);
            ours.add(export_);
            naive.add(peer);
            if (!export_.error && !peer.error) {
              ours.ratios.push(export_.records / export_.wallMs / (peer.records / peer.wallMs));
            }
          });
        }
        service.budget.declaredLimits = true;
      }
    }
  } finally {
    await service?.stop();
    await memory;
  }

  return {
    meta: {
      size: options.size,
      count: options.count,
      runs: options.runs,
      startedAt: new Date(startedAt).toISOString(),
      durationMs: Date.now() - startedAt,
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      notes: NOTES,
    },
    rows: [...rows.values()].map((builder) => builder.build()),
    notBuilt: NOT_BUILT,
  };
}

/** Each memory case (one CRM, one size, each run) in its own child process, one after the other. */
async function runMemoryCases(
  options: BenchOptions,
  crms: BenchCrm[],
  databaseServerUrl: string,
  row: (section: BenchSection, crm: BenchCrm, label: string, count: number) => RowBuilder,
  attempt: (what: string, builders: RowBuilder[], work: () => Promise<void>) => Promise<void>,
): Promise<void> {
  const crm = crms.find((candidate) => candidate.id === 'hubspot') ?? crms[0];
  for (const count of options.memoryCounts) {
    const builder = row('memory', crm, 'PenguinMails→CRM first sync (own process)', count);
    for (let run = 1; run <= options.runs; run++) {
      await attempt(`${crm.label} memory at ${count}`, [builder], async () => {
        const result = await runMemoryChild(crm, count, options.runTimeoutMs, databaseServerUrl);
        builder.add(result.sample);
        builder.peak.push(result.peakRssMb);
        builder.baseline.push(result.baselineRssMb);
      });
    }
  }
}

interface MemoryChildResult {
  baselineRssMb: number;
  peakRssMb: number;
  sample: PhaseSample;
}

/** Runs one memory case in a child process (its own maxRSS), on the same database server. */
function runMemoryChild(
  crm: BenchCrm,
  count: number,
  timeoutMs: number,
  databaseServerUrl: string,
): Promise<MemoryChildResult> {
  const args = ['-r', join(__dirname, 'register.cjs'), join(__dirname, 'memory-child.ts')];
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...args, crm.id, String(count), String(timeoutMs)],
      {
        env: { ...process.env, BENCH_DATABASE_SERVER: databaseServerUrl },
        timeout: timeoutMs + 120_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error)
          return reject(
            new Error(`memory child failed: ${stderr.trim().split('\n').pop() ?? error.message}`),
          );
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(line) as MemoryChildResult);
        } catch {
          reject(new Error(`memory child printed no result: ${line.slice(0, 200)}`));
        }
      },
    );
  });
}
