import type { PhaseSample } from './cases';
import type { BenchSection } from './options';
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
  /** Case-specific figures over the runs (the real-time case's lag percentiles, in ms). */
  figures?: Record<string, Figure | null>;
  /** Requests by route of the last successful run, as the sandbox counted them. */
  byRoute?: Record<string, number>;
  errors: string[];
}

/** Collects one case's samples over the runs, and its errors. */
export class RowBuilder {
  readonly samples: PhaseSample[] = [];
  readonly ratios: number[] = [];
  readonly peak: number[] = [];
  readonly baseline: number[] = [];
  readonly errors: string[] = [];
  /** Named figures, one sample per run. */
  readonly named = new Map<string, number[]>();
  extra: Partial<BenchRow> = {};

  constructor(
    readonly section: BenchSection,
    readonly crm: string,
    readonly label: string,
    readonly count: number,
  ) {}

  /** One run's value of a named figure. */
  note(name: string, value: number | null): void {
    if (value === null) return;
    this.named.set(name, [...(this.named.get(name) ?? []), value]);
  }

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
      ...(this.named.size
        ? { figures: Object.fromEntries([...this.named].map(([name, values]) => [name, figure(values)])) }
        : {}),
      ...(s.length ? { byRoute: s[s.length - 1].byRoute } : {}),
      ...this.extra,
      errors: [...new Set(this.errors)],
    };
  }
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The rows of a benchmark, in the order they are first asked for (the report's order within a section). */
export class RowSet {
  private readonly rows = new Map<string, RowBuilder>();

  constructor(private readonly log: (line: string) => void) {}

  /** The same case at another N is a row of its own (`--size huge`: memory at 100,000 and 1,000,000). */
  row(section: BenchSection, crm: string, label: string, count: number): RowBuilder {
    const key = `${section}|${crm}|${label}|${count}`;
    if (!this.rows.has(key)) this.rows.set(key, new RowBuilder(section, crm, label, count));
    return this.rows.get(key)!;
  }

  /** Runs one case; a failure becomes the error of its rows instead of stopping the benchmark. */
  async attempt(what: string, builders: RowBuilder[], work: () => Promise<void>): Promise<void> {
    const started = Date.now();
    try {
      await work();
      this.log(`  ${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      this.log(`  ${what}: FAILED ${message(error)}`);
      for (const builder of builders) builder.errors.push(message(error));
    }
  }

  build(): BenchRow[] {
    return [...this.rows.values()].map((builder) => builder.build());
  }
}
