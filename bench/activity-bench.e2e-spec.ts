import { runActivityCases } from './activity-cases';
import { benchCrm } from './crms';
import { BenchService } from './harness';
import type { BenchOptions } from './options';
import { RowSet } from './rows';

/**
 * The activity rows' smallest run, in-process, so they cannot rot unnoticed: 300 events ingested over HTTP (no CRM
 * call), then 100 sends delivered into the HubSpot sandbox at its documented limits through the pg-boss worker.
 */
describe('npm run bench: the activity cases (HubSpot, one run)', () => {
  const hubspot = benchCrm('hubspot');
  let service: BenchService;

  beforeAll(async () => {
    service = await BenchService.start(process.env.TEST_DATABASE_URL!, [hubspot]);
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('measures events accepted by the ingest route and delivery against the ceiling, with the calls counted', async () => {
    const rows = new RowSet(() => undefined);
    const options = { count: 300, limitsCount: 100, runs: 1, runTimeoutMs: 60_000 } as BenchOptions;
    await runActivityCases(service, hubspot, options, rows, () => undefined);
    const [ingest, delivery] = rows.build();

    expect(ingest).toMatchObject({ section: 'activities', crm: 'HubSpot', runs: 1, errors: [] });
    expect(ingest.records?.median).toBe(300);
    // Accepting events never waits on the CRM.
    expect(ingest.calls?.median).toBe(0);
    expect(ingest.recordsPerSecond?.median).toBeGreaterThan(0);

    expect(delivery).toMatchObject({
      runs: 1,
      errors: [],
      limit: '110 req/10 s, search 5/s',
      ceilingPerSecond: 1_100,
    });
    expect(delivery.records?.median).toBe(100);
    // 100 e-mails fit one HubSpot batch create: at least one call, and the ratio is of the ceiling.
    expect(delivery.minCalls).toBe(1);
    expect(delivery.calls?.median).toBeGreaterThanOrEqual(1);
    expect(delivery.byRoute?.['POST /crm/v3/objects/emails/batch/create']).toBe(1);
    expect(delivery.ratio?.median).toBeGreaterThan(0);
    expect(delivery.ratio?.median).toBeLessThanOrEqual(1);
  });
});
