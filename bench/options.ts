export type BenchSize = 'small' | 'medium' | 'large' | 'huge';
export type BenchSection = 'sync' | 'limits' | 'overhead' | 'memory' | 'peers' | 'activities' | 'realtime';
export const ALL_SECTIONS: readonly BenchSection[] = [
  'sync',
  'limits',
  'overhead',
  'memory',
  'peers',
  'activities',
  'realtime',
];

export interface BenchOptions {
  size: BenchSize;
  /** Contacts per first sync. */
  count: number;
  /** Contacts per first sync at the real limits (smaller: the limits make it slow by design). */
  limitsCount: number;
  /** Contacts the naive peer exports (and the limits-off export it is compared with). */
  peerCount: number;
  /** Contacts per memory case (one child process each). */
  memoryCounts: number[];
  /**
   * Changes per direction in the real-time case, made at 1,000 a minute (small: 200 over 12 s, so the run stays
   * short; otherwise 1,000 over one minute).
   */
  realtimeChanges: number;
  runs: number;
  /**
   * CRMs whose cases run at the same time, each in its own process (own sandbox, limits and database). 1: one after
   * the other. Small runs two lanes (Pipedrive, paced by its 40 requests/s, beside Salesforce then HubSpot), so it
   * stays short on a busy machine; the larger sizes run one at a time, so no CRM's wall time shares the cores.
   */
  parallel: number;
  crms: string[];
  sections: BenchSection[];
  /** Longest one sync run may take before its case is reported as timed out. */
  runTimeoutMs: number;
  out: string;
  strict: boolean;
}

const SIZES: Record<BenchSize, Omit<BenchOptions, 'size' | 'crms' | 'sections' | 'out' | 'strict'>> = {
  small: {
    count: 1_000,
    limitsCount: 200,
    peerCount: 1_000,
    memoryCounts: [1_000],
    realtimeChanges: 200,
    runs: 1,
    parallel: 2,
    // Pipedrive's 1,000 creates take ~30 s at its 80 requests / 2 s (the deployed budget paces to it).
    runTimeoutMs: 60_000,
  },
  medium: {
    count: 10_000,
    limitsCount: 1_000,
    peerCount: 10_000,
    memoryCounts: [10_000],
    realtimeChanges: 1_000,
    runs: 3,
    parallel: 1,
    runTimeoutMs: 900_000,
  },
  large: {
    count: 100_000,
    limitsCount: 5_000,
    peerCount: 10_000,
    memoryCounts: [10_000, 100_000],
    realtimeChanges: 1_000,
    runs: 3,
    parallel: 1,
    runTimeoutMs: 3_600_000,
  },
  // Not in CI: the memory target's second point (peak RSS within 20% between 100k and 1M); best with --only memory.
  huge: {
    count: 100_000,
    limitsCount: 5_000,
    peerCount: 10_000,
    memoryCounts: [100_000, 1_000_000],
    realtimeChanges: 1_000,
    runs: 1,
    parallel: 1,
    runTimeoutMs: 4 * 3_600_000,
  },
};

export const USAGE = `npm run bench -- [--size small|medium|large|huge] [--runs N] [--parallel N] [--crm salesforce,hubspot,pipedrive]
                   [--only sync,limits,overhead,memory,peers,activities,realtime] [--count N] [--limits-count N] [--out bench/results.json] [--strict]
  --size   small: 1,000 contacts, 1 run; medium (default): 10,000, 3 runs; large: 100,000, 3 runs;
           huge: memory at 100,000 and 1,000,000, 1 run (not in CI; use with --only memory)
  --limits-count  contacts per first sync at the real limits, and activities delivered there (small: 200, medium:
           1,000, large: 5,000); a limit binds only once the calls outlast its burst (HubSpot: past 110 batches,
           11,000 contacts; Salesforce: past 100, 20,000; Pipedrive: any size)
  --parallel  CRMs run at the same time, each in its own process (small: 2, else 1)
  --strict exit 1 when any case failed or timed out (default: report the error in its row and exit 0)`;

function list(value: string, allowed: readonly string[], name: string): string[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  const unknown = items.filter((item) => !allowed.includes(item));
  if (unknown.length) throw new Error(`--${name}: unknown ${unknown.join(', ')} (${allowed.join(', ')})`);
  return items;
}

function positiveInt(value: string | undefined, name: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`--${name} must be a positive integer`);
  return number;
}

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"\n${USAGE}`);
    const [name, inline] = arg.slice(2).split('=', 2);
    if (name === 'strict' || name === 'help') flags.set(name, 'true');
    else flags.set(name, inline ?? argv[++i] ?? '');
  }
  if (flags.has('help')) throw new Error(USAGE);
  const known = ['size', 'runs', 'parallel', 'crm', 'only', 'count', 'limits-count', 'out', 'strict'];
  const unknown = [...flags.keys()].filter((name) => !known.includes(name));
  if (unknown.length) throw new Error(`unknown option --${unknown[0]}\n${USAGE}`);

  const size = (flags.get('size') ?? 'medium') as BenchSize;
  if (!(size in SIZES)) throw new Error(`--size must be small, medium, large or huge`);
  const preset = SIZES[size];
  const count = flags.has('count') ? positiveInt(flags.get('count'), 'count') : preset.count;
  return {
    size,
    ...preset,
    count,
    ...(flags.has('count')
      ? {
          limitsCount: Math.min(preset.limitsCount, count),
          peerCount: Math.min(preset.peerCount, count),
          memoryCounts: [count],
        }
      : {}),
    ...(flags.has('limits-count')
      ? { limitsCount: positiveInt(flags.get('limits-count'), 'limits-count') }
      : {}),
    runs: flags.has('runs') ? positiveInt(flags.get('runs'), 'runs') : preset.runs,
    parallel: flags.has('parallel') ? positiveInt(flags.get('parallel'), 'parallel') : preset.parallel,
    crms: list(
      flags.get('crm') ?? 'salesforce,hubspot,pipedrive',
      ['salesforce', 'hubspot', 'pipedrive'],
      'crm',
    ),
    sections: list(flags.get('only') ?? ALL_SECTIONS.join(','), ALL_SECTIONS, 'only') as BenchSection[],
    out: flags.get('out') ?? 'bench/results.json',
    strict: flags.get('strict') === 'true',
  };
}
