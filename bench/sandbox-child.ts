// One CRM sandbox in a process of its own, for the memory cases: `fork('bench/sandbox-child.ts', [crm])` with
// `-r ./bench/register.cjs`. The records it holds and the requests it serves then count in its RSS, not the worker's.
// It answers the parent's IPC requests (`RemoteSandbox`): counters (requests by route, 429s), reset, stop.
import { benchCrm } from './crms';

export type SandboxChildRequest = { id: number; op: 'counters' | 'resetCounters' | 'stop' };

export interface SandboxChildCounters {
  total: number;
  byRoute: Record<string, number>;
  refused: number;
  records: number;
  /** This process's peak RSS so far, MB. */
  peakRssMb: number;
}

async function main(): Promise<void> {
  const crm = benchCrm(process.argv[2]);
  const sandbox = crm.createSandbox();
  await sandbox.start();
  let refused = 0;
  for (const limiter of crm.limiters(sandbox)) {
    const take = limiter.take.bind(limiter);
    limiter.take = (account, cost) => {
      const decision = take(account, cost);
      if (!decision.allowed) refused++;
      return decision;
    };
  }
  const answer = (id: number, result: unknown) => process.send?.({ id, result });
  process.on('message', (request: SandboxChildRequest) => {
    if (request.op === 'resetCounters') {
      sandbox.counters.reset();
      refused = 0;
      answer(request.id, null);
    } else if (request.op === 'counters') {
      const counters: SandboxChildCounters = {
        total: sandbox.counters.total(),
        byRoute: sandbox.counters.snapshot().byRoute,
        refused,
        records: crm.ids(sandbox).length,
        peakRssMb: process.resourceUsage().maxRSS / 1024,
      };
      answer(request.id, counters);
    } else if (request.op === 'stop') {
      void sandbox.stop().finally(() => {
        answer(request.id, null);
        process.exit(0);
      });
    }
  });
  // The parent going away ends this process too.
  process.on('disconnect', () => process.exit(0));
  process.send?.({
    ready: {
      baseUrl: sandbox.baseUrl,
      clientId: sandbox.oauth.clientId,
      clientSecret: sandbox.oauth.clientSecret,
    },
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
