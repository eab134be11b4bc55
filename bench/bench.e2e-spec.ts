import { benchPeople, runSyncCase } from './cases';
import { benchCrm } from './crms';
import { BenchService } from './harness';
import { figure, formatFigure } from './stats';

/**
 * The benchmark's smallest case, in-process, so `npm run bench` cannot rot unnoticed: 200 contacts exported to the
 * HubSpot sandbox through the service's HTTP API and pg-boss worker, then 1% edited on each side, then a no-op.
 * The figures must be what the sandbox saw: the calls of the three runs add up to the sandbox's own counter.
 */
describe('npm run bench: the smallest case (HubSpot, 200 contacts, one run)', () => {
  const hubspot = benchCrm('hubspot');
  let service: BenchService;

  beforeAll(async () => {
    service = await BenchService.start(process.env.TEST_DATABASE_URL!, [hubspot]);
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('measures first, incremental and no-op runs with the calls the sandbox counted', async () => {
    // The engine alone (rate budget off), so the case stays short on a busy machine.
    service.budget.declaredLimits = false;
    const { sandbox } = service.sandboxFor(hubspot);

    const result = await runSyncCase(service, hubspot, 'to_crm', 200, 60_000);

    expect(result.first).toMatchObject({ status: 'succeeded', records: 200, calls429: 0 });
    expect(result.first.error).toBeUndefined();
    // HubSpot takes 100 contacts per batch create, plus at least one read: 3 calls at the very least.
    expect(result.first.minCalls).toBe(3);
    expect(result.first.calls).toBeGreaterThanOrEqual(result.first.minCalls);
    expect(hubspot.ids(sandbox)).toHaveLength(200);
    // The contacts PostgreSQL made for the case (generate_series) are the benchmark's people, e-mail for e-mail.
    const crmEmails = hubspot.realtime!.contacts(sandbox).map((contact) => contact.email);
    expect(crmEmails.sort()).toEqual(
      benchPeople(200, result.tenantId)
        .map((person) => person.email)
        .sort(),
    );
    // Two contacts edited on each side: each crosses over once.
    expect(result.incremental).toMatchObject({ status: 'succeeded', records: 4 });
    const crmNames = hubspot.realtime!.contacts(sandbox).map((contact) => contact.lastName ?? '');
    expect(crmNames.filter((name) => name.startsWith('EditedInPm')).sort()).toEqual([
      'EditedInPm0',
      'EditedInPm1',
    ]);
    const localNames = (await service.localContacts(result.tenantId)).map(
      (contact) => contact.lastName ?? '',
    );
    expect(localNames.filter((name) => name.startsWith('EditedInCrm')).sort()).toEqual([
      'EditedInCrm0',
      'EditedInCrm1',
    ]);
    expect(result.noop).toMatchObject({ status: 'succeeded', records: 0 });
    // A converged connection (its run once HubSpot's index lag has passed): one search, one association read and the
    // recycle-bin scan at most, not a re-read of the export.
    expect(result.noop!.calls).toBeLessThanOrEqual(3);

    const phases = [result.first, result.incremental!, result.noop!];
    for (const phase of phases) {
      expect(phase.wallMs).toBeGreaterThan(0);
      expect(phase.cpuMs).toBeGreaterThan(0);
      expect(Object.values(phase.byRoute).reduce((sum, count) => sum + count, 0)).toBe(phase.calls);
    }
    // Counters were reset after the connect flow; the three runs made every request since.
    expect(phases.reduce((sum, phase) => sum + phase.calls, 0)).toBe(sandbox.counters.total());

    const wall = figure(phases.map((phase) => phase.wallMs));
    expect(wall).toMatchObject({ samples: expect.any(Array) });
    expect(formatFigure(figure([3, 1, 2]))).toBe('2 (1–3)');
  });
});
