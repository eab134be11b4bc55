// One CRM's in-process cases in their own process: `node -r ./bench/register.cjs bench/crm-child.ts <crm>` with
// BENCH_DATABASE_SERVER and BENCH_OPTIONS (JSON) set. Prints the rows as one JSON line on stdout, progress on stderr.
// Exiting ends whatever a case left running, so one CRM's leftovers never touch another CRM's figures.
import { runActivityCases } from './activity-cases';
import { runCrmCases } from './crm-cases';
import { benchCrm } from './crms';
import { BenchService } from './harness';
import type { BenchOptions } from './options';
import { runRealtimeCases } from './realtime-cases';
import { message, RowSet } from './rows';

async function main(): Promise<void> {
  const crm = benchCrm(process.argv[2]);
  const serverUrl = process.env.BENCH_DATABASE_SERVER;
  if (!serverUrl) throw new Error('BENCH_DATABASE_SERVER is not set');
  const options = JSON.parse(process.env.BENCH_OPTIONS ?? '{}') as BenchOptions;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const rows = new RowSet(log);
  const service = await BenchService.start(serverUrl, [crm]);
  try {
    await runCrmCases(service, crm, options, rows, log);
    if (options.sections.includes('activities')) await runActivityCases(service, crm, options, rows, log);
    if (options.sections.includes('realtime')) await runRealtimeCases(service, crm, options, rows, log);
  } finally {
    process.stdout.write(`${JSON.stringify(rows.build())}\n`);
    // From here on the process only leaves: a run left behind may fail loudly as its database goes away.
    process.on('uncaughtException', (error) => log(`while stopping: ${message(error)}`));
    // A run still waiting on its rate budget can hold the shutdown; the database is dropped either way.
    await Promise.race([service.stop(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    await service
      .dropDatabase()
      .catch((error: unknown) => log(`could not drop the database: ${message(error)}`));
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
