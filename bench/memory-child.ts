// One memory case in its own process, so its peak RSS is the worker's alone: `node -r ./bench/register.cjs
// bench/memory-child.ts <crm> <count> <timeoutMs>` with BENCH_DATABASE_SERVER set. Prints one JSON line.
import { runSyncCase } from './cases';
import { benchCrm } from './crms';
import { BenchService } from './harness';

async function main(): Promise<void> {
  const [crmId, countText, timeoutText] = process.argv.slice(2);
  const crm = benchCrm(crmId);
  const serverUrl = process.env.BENCH_DATABASE_SERVER;
  if (!serverUrl) throw new Error('BENCH_DATABASE_SERVER is not set');
  const service = await BenchService.start(serverUrl, [crm]);
  try {
    // The engine alone: the service's rate budget off, the sandbox not enforcing.
    service.budget.declaredLimits = false;
    const baselineRssMb = process.memoryUsage().rss / 1_048_576;
    const { first } = await runSyncCase(service, crm, 'to_crm', Number(countText), Number(timeoutText), {
      firstOnly: true,
    });
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    process.stdout.write(`${JSON.stringify({ baselineRssMb, peakRssMb, sample: first })}\n`);
  } finally {
    process.on('uncaughtException', () => undefined);
    await Promise.race([service.stop(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    await service.dropDatabase().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
