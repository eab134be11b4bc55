import type { PhaseSample } from './cases';
import { RowSet } from './rows';

function sample(records: number, wallMs: number): PhaseSample {
  return { wallMs, records, calls: 1, minCalls: 1, calls429: 0, cpuMs: 1, byRoute: {}, status: 'succeeded' };
}

describe('RowSet: one report row per case and N', () => {
  it('keeps the same case at two N apart (the memory case at 100,000 and 1,000,000), and runs at one N together', () => {
    const rows = new RowSet(() => undefined);
    const small = rows.row('memory', 'Salesforce', 'first sync', 100_000);
    small.add(sample(100_000, 40_000));
    small.peak.push(205);
    small.baseline.push(160);
    const large = rows.row('memory', 'Salesforce', 'first sync', 1_000_000);
    large.add(sample(1_000_000, 500_000));
    large.peak.push(218);
    large.baseline.push(150);
    rows.row('memory', 'Salesforce', 'first sync', 100_000).peak.push(207);

    const built = rows.build();

    expect(built.map((row) => [row.count, row.peakRssMb?.samples])).toEqual([
      [100_000, [205, 207]],
      [1_000_000, [218]],
    ]);
    expect(built[1].records?.samples).toEqual([1_000_000]);
  });
});
