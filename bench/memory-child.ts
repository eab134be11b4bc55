// One memory case in its own process, so its peak RSS is the worker's alone: `node -r ./bench/register.cjs
// bench/memory-child.ts <crm> <count> <timeoutMs>` with BENCH_DATABASE_SERVER set. Prints one JSON line.
// The CRM's sandbox runs in a process of its own (sandbox-child.ts): the records it holds and the requests it serves
// would otherwise count as the worker's (at 50k, about a quarter of the peak), and grow with N.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { recordsWritten, type PhaseSample } from './cases';
import { benchCrm, type BenchCrm } from './crms';
import { BenchService, type RemoteSandboxAddress } from './harness';
import type { SandboxServer } from '@pm/sandboxes';
import type { SandboxChildCounters, SandboxChildRequest } from './sandbox-child';

/** The sandbox child, as the memory case talks to it (IPC). */
class RemoteSandbox {
  private sequence = 0;
  private readonly pending = new Map<number, (result: unknown) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly address: RemoteSandboxAddress,
  ) {
    child.on('message', (message: { id?: number; result?: unknown }) => {
      if (message.id === undefined) return;
      this.pending.get(message.id)?.(message.result);
      this.pending.delete(message.id);
    });
  }

  static start(crm: BenchCrm): Promise<RemoteSandbox> {
    const child = fork(join(__dirname, 'sandbox-child.ts'), [crm.id], {
      execArgv: ['-r', join(__dirname, 'register.cjs')],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the ${crm.label} sandbox process left (${code})`)));
      child.once('message', (message: { ready?: Omit<RemoteSandboxAddress, 'crm'> }) => {
        if (message.ready) resolve(new RemoteSandbox(child, { crm, ...message.ready }));
      });
    });
  }

  request<T>(op: SandboxChildRequest['op']): Promise<T> {
    const id = ++this.sequence;
    return new Promise<T>((resolve) => {
      this.pending.set(id, resolve as (result: unknown) => void);
      this.child.send({ id, op } satisfies SandboxChildRequest);
    });
  }

  counters(): Promise<SandboxChildCounters> {
    return this.request('counters');
  }

  async stop(): Promise<void> {
    await Promise.race([this.request('stop'), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    this.child.kill();
  }
}

/** The largest heap, external and array-buffer figures seen (sampled every 100 ms), MB. */
function sampleMemory(): { stop(): Record<string, number> } {
  const peaks = { heapUsedMb: 0, heapTotalMb: 0, externalMb: 0, arrayBuffersMb: 0 };
  const take = () => {
    const usage = process.memoryUsage();
    peaks.heapUsedMb = Math.max(peaks.heapUsedMb, usage.heapUsed / 1_048_576);
    peaks.heapTotalMb = Math.max(peaks.heapTotalMb, usage.heapTotal / 1_048_576);
    peaks.externalMb = Math.max(peaks.externalMb, usage.external / 1_048_576);
    peaks.arrayBuffersMb = Math.max(peaks.arrayBuffersMb, usage.arrayBuffers / 1_048_576);
  };
  const timer = setInterval(take, 100);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return peaks;
    },
  };
}

/** ⌈count / records per write request⌉ + one read, as the other cases count it. */
function minimumCalls(address: RemoteSandboxAddress, count: number): number {
  const { baseUrl, clientId, clientSecret } = address;
  const stub = { baseUrl, oauth: { clientId, clientSecret } } as unknown as SandboxServer;
  const capabilities = address.crm.connector(stub).capabilities();
  return Math.ceil(count / (capabilities.writeRecordsPerRequest ?? capabilities.maxWriteBatch)) + 1;
}

async function main(): Promise<void> {
  const [crmId, countText, timeoutText] = process.argv.slice(2);
  const crm = benchCrm(crmId);
  const count = Number(countText);
  const serverUrl = process.env.BENCH_DATABASE_SERVER;
  if (!serverUrl) throw new Error('BENCH_DATABASE_SERVER is not set');
  const sandbox = await RemoteSandbox.start(crm);
  let service: BenchService | undefined;
  try {
    service = await BenchService.start(serverUrl, [], [sandbox.address]);
    // The engine alone: the service's rate budget off, the sandbox not enforcing.
    service.budget.declaredLimits = false;
    const tenantId = `bench-memory-${crm.id}-${process.pid}`;
    const connectionId = await service.connect(tenantId, crm);
    // Made by PostgreSQL itself: the contacts never pass through this process, whose figures are the service's.
    await service.seedLocalPeople(tenantId, count);
    await sandbox.request('resetCounters');
    const baselineRssMb = process.memoryUsage().rss / 1_048_576;
    const memory = sampleMemory();
    const cpu = process.cpuUsage();
    const started = performance.now();
    const run = await service.syncNow(tenantId, connectionId, Number(timeoutText));
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const peaks = memory.stop();
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    const counters = await sandbox.counters();
    const sample: PhaseSample = {
      wallMs,
      records: recordsWritten(run),
      calls: counters.total,
      byRoute: counters.byRoute,
      minCalls: minimumCalls(sandbox.address, count),
      calls429: counters.refused,
      cpuMs: (used.user + used.system) / 1000,
      status: run.status,
      ...(run.status === 'succeeded' ? {} : { error: run.error ?? run.status }),
    };
    process.stdout.write(
      `${JSON.stringify({ baselineRssMb, peakRssMb, ...peaks, sandboxPeakRssMb: counters.peakRssMb, sample })}\n`,
    );
  } finally {
    process.on('uncaughtException', () => undefined);
    if (service) {
      await Promise.race([service.stop(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      await service.dropDatabase().catch(() => undefined);
    }
    await sandbox.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
