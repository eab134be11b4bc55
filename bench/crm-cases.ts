import {
  DIRECTION_LABEL,
  runNaiveExport,
  runRealLimitCase,
  runSyncCase,
  type Direction,
  type PhaseSample,
} from './cases';
import type { BenchCrm } from './crms';
import type { BenchService } from './harness';
import type { BenchOptions, BenchSection } from './options';
import type { RowSet } from './rows';

const PHASES = [
  ['first', 'first sync'],
  ['incremental', 'incremental (1% each side)'],
  ['noop', 'no-op'],
] as const;

const DIRECTIONS: Direction[] = ['to_crm', 'from_crm'];

/**
 * Every in-process case of one CRM, `options.runs` times. The cases with the service's rate budget off come first:
 * a run that overruns its case and cannot be stopped (it waits on the budget, which no abort reaches) keeps working
 * in the background, so the cases most likely to leave one behind run last, where it disturbs nothing measured.
 */
export async function runCrmCases(
  service: BenchService,
  crm: BenchCrm,
  options: BenchOptions,
  rows: RowSet,
  log: (line: string) => void,
): Promise<void> {
  const wants = (section: BenchSection) => options.sections.includes(section);
  // The report's order: rows are made here, in the order they are shown (only the sections asked for).
  const syncRows = DIRECTIONS.map((direction) =>
    wants('sync')
      ? PHASES.map(([, label]) =>
          rows.row('sync', crm.label, `${DIRECTION_LABEL[direction]} ${label}`, options.count),
        )
      : [],
  );
  const limitRows = DIRECTIONS.map((direction) =>
    wants('limits')
      ? rows.row('limits', crm.label, `${DIRECTION_LABEL[direction]} first sync`, options.limitsCount)
      : undefined,
  );
  const overheadRows = DIRECTIONS.map((direction) =>
    wants('overhead')
      ? rows.row('overhead', crm.label, `${DIRECTION_LABEL[direction]} first sync`, options.count)
      : undefined,
  );
  const ours = wants('peers')
    ? rows.row('peers', crm.label, 'service export (limits off)', options.peerCount)
    : undefined;
  const naive = wants('peers')
    ? rows.row('peers', crm.label, 'naive SDK, one call per record', options.peerCount)
    : undefined;

  for (let run = 1; run <= options.runs; run++) {
    log(`${crm.label}: run ${run}/${options.runs}`);
    // Limits off: the service's rate budget ignores the declared limits and the sandbox enforces none.
    service.budget.declaredLimits = false;
    let exported: PhaseSample | undefined;
    for (const [i, direction] of DIRECTIONS.entries()) {
      const builder = overheadRows[i];
      if (builder) {
        await rows.attempt(`${crm.label} ${DIRECTION_LABEL[direction]}, limits off`, [builder], async () => {
          const { first } = await runSyncCase(service, crm, direction, options.count, options.runTimeoutMs, {
            firstOnly: true,
          });
          builder.add(first);
          if (direction === 'to_crm' && !first.error) exported = first;
        });
      }
    }
    if (ours && naive) {
      await rows.attempt(`${crm.label} naive SDK export`, [ours, naive], async () => {
        // The overhead case's export when it ran at this size (a failed one is not tried twice).
        const overheadRan = wants('overhead') && options.count === options.peerCount;
        const export_ = overheadRan
          ? exported
          : (
              await runSyncCase(service, crm, 'to_crm', options.peerCount, options.runTimeoutMs, {
                firstOnly: true,
              })
            ).first;
        const peer = await runNaiveExport(service, crm, options.peerCount);
        naive.add(peer);
        if (export_) ours.add(export_);
        else ours.errors.push('the service export failed (see the overhead case)');
        if (export_ && !export_.error && !peer.error) {
          ours.ratios.push(export_.records / export_.wallMs / (peer.records / peer.wallMs));
        }
      });
    }

    // The service as deployed: its rate budget plans from the connector's declared limits.
    service.budget.declaredLimits = true;
    if (wants('sync')) {
      // CRM→PenguinMails first: exports are the runs that may not stop (see above).
      for (const [d, direction] of [...DIRECTIONS.entries()].reverse()) {
        const builders = syncRows[d];
        await rows.attempt(`${crm.label} ${DIRECTION_LABEL[direction]}`, [builders[0]], async () => {
          const result = await runSyncCase(
            service,
            crm,
            direction,
            options.count,
            options.runTimeoutMs,
          ).catch((error: unknown) => {
            // The first sync failed or overran: the later phases of this case never ran.
            builders
              .slice(1)
              .forEach((builder) => builder.errors.push('not run: the first sync did not succeed'));
            throw error;
          });
          PHASES.forEach(([phase], i) => {
            const sample = result[phase];
            if (sample) builders[i].add(sample);
          });
        });
      }
    }
    // CRM→PenguinMails first, for the same reason as above: an export that overruns may not stop.
    for (const [d, direction] of [...DIRECTIONS.entries()].reverse()) {
      const limits = limitRows[d];
      if (!limits) continue;
      await rows.attempt(
        `${crm.label} ${DIRECTION_LABEL[direction]} at the real limits`,
        [limits],
        async () => {
          const result = await runRealLimitCase(
            service,
            crm,
            direction,
            options.limitsCount,
            options.runTimeoutMs,
          );
          limits.add(result);
          limits.extra = { limit: result.limit, ceilingPerSecond: result.ceilingPerSecond };
          if (!result.error && result.records > 0) {
            limits.ratios.push(result.records / (result.wallMs / 1000) / result.ceilingPerSecond);
          }
        },
      );
    }
  }
}
