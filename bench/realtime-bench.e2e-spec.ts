import { benchCrm } from './crms';
import { BenchService } from './harness';
import type { BenchOptions } from './options';
import { runRealtimeCases } from './realtime-cases';
import { RowSet } from './rows';
import { percentile } from './stats';

/**
 * The real-time rows' smallest run, in-process, so they cannot rot unnoticed: 20 changes each way over 1.2 s on one
 * HubSpot connection, its signed webhooks reaching the service's receiver over HTTP and its pushes the sandbox.
 */
describe('npm run bench: the real-time case (HubSpot, 20 changes each way)', () => {
  const hubspot = benchCrm('hubspot');
  let service: BenchService;

  beforeAll(async () => {
    service = await BenchService.start(process.env.TEST_DATABASE_URL!, [hubspot]);
  });

  // A graceful stop lets the jobs in flight finish (webhook-driven syncs and pushes queued to the last moment), up to
  // 30 s per queue: on a busy machine that outlasts the default hook timeout.
  afterAll(async () => {
    await service?.stop();
  }, 120_000);

  it('sees every change on the other side and reports the lag percentiles with the calls counted', async () => {
    const rows = new RowSet(() => undefined);
    const options = { realtimeChanges: 20, runs: 1, runTimeoutMs: 60_000 } as BenchOptions;
    await runRealtimeCases(service, hubspot, options, rows, () => undefined);
    const [inbound, outbound] = rows.build();

    for (const row of [inbound, outbound]) {
      expect(row).toMatchObject({ section: 'realtime', crm: 'HubSpot', count: 20, runs: 1, errors: [] });
      expect(row.records?.median).toBe(20);
      const { lagP50Ms, lagP95Ms, lagMaxMs } = row.figures!;
      expect(lagP50Ms!.median).toBeGreaterThan(0);
      expect(lagP50Ms!.median).toBeLessThanOrEqual(lagP95Ms!.median);
      expect(lagP95Ms!.median).toBeLessThanOrEqual(lagMaxMs!.median);
    }
    expect(inbound.case).toContain('CRM→PenguinMails');
    // The service measured its own lag over the hints it applied.
    expect(inbound.figures?.serviceLagP95Ms?.median).toBeGreaterThan(0);
    // The push waits out its per-record debounce (2 s) before it writes.
    expect(outbound.figures?.lagP50Ms?.median).toBeGreaterThanOrEqual(2_000);
    // Both directions touched the CRM: the targeted reads and the pushed writes.
    expect(outbound.byRoute?.['POST /crm/v3/objects/contacts/batch/update']).toBeGreaterThanOrEqual(1);
    expect(inbound.byRoute?.['POST /crm/v3/objects/contacts/batch/read']).toBeGreaterThanOrEqual(1);
  });

  it('takes percentiles between the closest ranks', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([800, 1_400], 50)).toBe(1_100);
    expect(percentile([800, 1_400], 95)).toBe(1_370);
    expect(percentile([5, 1, 3, 2, 4], 100)).toBe(5);
  });
});
