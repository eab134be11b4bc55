import type { BenchResults, BenchRow } from './bench';
import type { BenchSection } from './options';
import { formatFigure, type Figure } from './stats';

const TITLES: Record<BenchSection, string> = {
  sync: '1. Sync per CRM and direction (service as deployed; sandbox counting, not enforcing limits)',
  limits: '2. At the real limits (sandbox enforcing the CRM’s documented limits)',
  overhead: '3. Engine overhead (limits off)',
  memory: '4. Memory (peak RSS of a worker process running one first sync)',
  peers: '5. Peer: the naive official-SDK export against the same sandbox',
  activities:
    '6. E-mail activities: events/s accepted by the ingest route; delivery against the CRM’s ceiling',
  realtime: '7. Real-time: end-to-end lag per change at 1,000 changes a minute each way (target p95 < 60 s)',
};

type Column = [header: string, cell: (row: BenchRow) => string];

const seconds = (value: Figure | null) =>
  formatFigure(
    value && { ...value, median: value.median / 1000, min: value.min / 1000, max: value.max / 1000 },
    2,
  );

const COMMON: Column[] = [
  ['CRM', (row) => row.crm],
  ['case', (row) => row.case],
  ['N', (row) => row.count.toLocaleString('en-US')],
];

const COLUMNS: Record<BenchSection, Column[]> = {
  sync: [
    ...COMMON,
    ['wall s', (row) => seconds(row.wallMs)],
    ['records/s', (row) => formatFigure(row.recordsPerSecond)],
    ['records', (row) => formatFigure(row.records)],
    ['CRM calls', (row) => formatFigure(row.calls)],
    ['min', (row) => (row.minCalls === null ? '—' : String(row.minCalls))],
    ['429s', (row) => formatFigure(row.calls429)],
  ],
  limits: [
    ...COMMON,
    ['limit', (row) => row.limit ?? '—'],
    ['wall s', (row) => seconds(row.wallMs)],
    ['records/s', (row) => formatFigure(row.recordsPerSecond)],
    ['ceiling/s', (row) => (row.ceilingPerSecond ?? 0).toLocaleString('en-US')],
    ['of ceiling', (row) => formatFigure(row.ratio && scale(row.ratio, 100), 0) + (row.ratio ? '%' : '')],
    ['CRM calls', (row) => formatFigure(row.calls)],
    ['min', (row) => (row.minCalls === null ? '—' : String(row.minCalls))],
    ['429s', (row) => formatFigure(row.calls429)],
  ],
  overhead: [
    ...COMMON,
    ['wall s', (row) => seconds(row.wallMs)],
    ['records/s', (row) => formatFigure(row.recordsPerSecond)],
    ['CPU ms/record', (row) => formatFigure(row.cpuMsPerRecord, 3)],
    ['CRM calls', (row) => formatFigure(row.calls)],
  ],
  memory: [
    ...COMMON,
    ['peak RSS MB', (row) => formatFigure(row.peakRssMb ?? null)],
    ['RSS after boot MB', (row) => formatFigure(row.baselineRssMb ?? null)],
    ['wall s', (row) => seconds(row.wallMs)],
    ['records/s', (row) => formatFigure(row.recordsPerSecond)],
  ],
  peers: [
    ...COMMON,
    ['wall s', (row) => seconds(row.wallMs)],
    ['records/s', (row) => formatFigure(row.recordsPerSecond)],
    ['CRM calls', (row) => formatFigure(row.calls)],
    ['ratio', (row) => (row.ratio ? `${formatFigure(row.ratio, 1)}×` : '')],
  ],
  activities: [
    ...COMMON,
    ['limit', (row) => row.limit ?? '—'],
    ['wall s', (row) => seconds(row.wallMs)],
    ['events/s', (row) => formatFigure(row.recordsPerSecond)],
    ['ceiling/s', (row) => (row.ceilingPerSecond ? row.ceilingPerSecond.toLocaleString('en-US') : '—')],
    ['of ceiling', (row) => (row.ratio ? `${formatFigure(scale(row.ratio, 100), 0)}%` : '—')],
    ['CRM calls', (row) => formatFigure(row.calls)],
    ['min', (row) => (row.minCalls === null ? '—' : String(row.minCalls))],
    ['429s', (row) => formatFigure(row.calls429)],
  ],
  realtime: [
    ...COMMON,
    ['seen', (row) => formatFigure(row.records)],
    ['lag p50 s', (row) => seconds(row.figures?.lagP50Ms ?? null)],
    ['p95 s', (row) => seconds(row.figures?.lagP95Ms ?? null)],
    ['max s', (row) => seconds(row.figures?.lagMaxMs ?? null)],
    [
      'service p50/p95 s',
      (row) =>
        row.figures?.serviceLagP50Ms
          ? `${seconds(row.figures.serviceLagP50Ms)} / ${seconds(row.figures.serviceLagP95Ms ?? null)}`
          : '—',
    ],
    ['wall s', (row) => seconds(row.wallMs)],
    ['CRM calls', (row) => formatFigure(row.calls)],
    ['429s', (row) => formatFigure(row.calls429)],
  ],
};

function scale(value: Figure, factor: number): Figure {
  return {
    median: value.median * factor,
    min: value.min * factor,
    max: value.max * factor,
    samples: value.samples.map((sample) => sample * factor),
  };
}

function table(headers: string[], lines: string[][]): string[] {
  const widths = headers.map((header, i) => Math.max(header.length, ...lines.map((line) => line[i].length)));
  const render = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [render(headers), widths.map((width) => '-'.repeat(width)).join('  '), ...lines.map(render)];
}

/** The results as plain-text tables, one per section, with failed cases as rows carrying their error. */
export function renderReport(results: BenchResults): string {
  const out: string[] = [];
  const { meta } = results;
  out.push(
    `PenguinMails CRM Integrations benchmark: size ${meta.size}, N = ${meta.count.toLocaleString('en-US')}, ` +
      `${meta.runs} run(s) per case (median, min–max), ${meta.cpus} CPUs (${meta.cpuModel}), Node ${meta.node}, ` +
      `${(meta.durationMs / 1000).toFixed(0)} s, load average ${meta.loadAverage.start.toFixed(1)} → ` +
      `${meta.loadAverage.end.toFixed(1)}`,
  );
  for (const section of Object.keys(TITLES) as BenchSection[]) {
    const rows = results.rows.filter((row) => row.section === section);
    if (rows.length === 0) continue;
    const columns = COLUMNS[section];
    out.push('', TITLES[section]);
    const lines = rows.map((row) =>
      row.runs === 0 && row.errors.length
        ? columns.map(([, cell], i) =>
            i < COMMON.length ? cell(row) : i === COMMON.length ? 'FAILED (!)' : '',
          )
        : columns.map(([, cell]) => cell(row)),
    );
    out.push(
      ...table(
        columns.map(([header]) => header),
        lines,
      ),
    );
    for (const row of rows.filter((r) => r.errors.length)) {
      const failed = row.runs === 0 ? 'failed' : `${row.errors.length} run(s) failed`;
      out.push(`  ! ${row.crm} ${row.case}: ${failed}: ${row.errors.join(' | ').slice(0, 200)}`);
    }
  }
  if (results.notBuilt.length) out.push('', `${results.notBuilt.join(', ')}: not built yet`);
  out.push('', ...results.meta.notes.map((note) => `* ${note}`));
  return out.join('\n');
}
