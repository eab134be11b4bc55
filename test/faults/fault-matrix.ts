import type { SyncRun } from '@pm/domain';
import type { CrmUnderFault, Person } from './crms-under-fault';
import { MatrixConnection, terminateSessions, type MatrixApp, type SteppingClock } from './fault-matrix-bed';

/** How big a matrix run is: people per side and page sizes (small in `npm test`, full in `npm run test:faults`). */
export interface MatrixSize {
  name: string;
  /** People created on each side before the faulted run, and again (new ones) with the edits. */
  people: number;
  readPageSize: number;
  localPageSize: number;
  clientTimeoutMs: number;
  /** Every fault on every CRM, or each fault on one CRM in turn (fault i on CRM i mod 3). */
  cells: 'all' | 'rotate';
}

export const SMALL: MatrixSize = {
  name: 'small',
  people: 3,
  readPageSize: 2,
  localPageSize: 2,
  clientTimeoutMs: 1_000,
  cells: 'rotate',
};
export const FULL: MatrixSize = {
  name: 'full',
  people: 40,
  readPageSize: 10,
  localPageSize: 10,
  clientTimeoutMs: 1_000,
  cells: 'all',
};

export interface CaseContext {
  crm: CrmUnderFault;
  connection: MatrixConnection;
  bed: MatrixApp;
  clock: SteppingClock;
  size: MatrixSize;
  database: { serverUrl: string; name: string };
  /** The e-mails the CRM refuses when a case asks it to (one per write batch). */
  invalid: Set<string>;
  /** Resolves when an armed interruption fired (the worker is "dead" from then on). */
  interrupted: Promise<void>;
  interrupt(): void;
}

export interface FaultCase {
  name: string;
  /** Prepares the fault just before the faulted run. */
  inject(ctx: CaseContext): Promise<void> | void;
  /** Runs the faulted sync (default: "Sync now" executed in this process); returns its run. */
  run?(ctx: CaseContext): Promise<SyncRun>;
  /** What the faulted run may end as. */
  outcome: SyncRun['status'][];
  /** The cause that must be on record: in the run's error or a failure line of the connection's log. */
  cause?: RegExp;
  /** The connection's status right after the faulted run. */
  status: string;
  /** Back to normal before the next run (reconnect, minutes pass, orphaned runs reaped). */
  recover?(ctx: CaseContext): Promise<void>;
}

const MINUTES = 60_000;

/** A write that reaches the CRM: the case's hooks interrupt after the CRM applied it. */
const WRITE = 'upsertBatch';

export const FAULT_CASES: FaultCase[] = [
  {
    name: '429 storm with Retry-After',
    inject: ({ crm }) => void crm.faults.rateLimitStorm(4, 7, { after: 2 }),
    outcome: ['succeeded'],
    status: 'connected',
  },
  {
    name: '5xx burst',
    inject: ({ crm }) =>
      void crm.faults.status(503, { message: 'Service Unavailable' }, undefined, { times: 3, after: 2 }),
    // A CRM written one record per request (Pipedrive) reports a record whose retries ran out as that record's
    // failure: logged with the cause, retried by the next run.
    outcome: ['succeeded', 'partial'],
    status: 'connected',
  },
  {
    name: 'connection resets',
    inject: ({ crm }) => void crm.faults.dropConnection({ times: 2, after: 2 }),
    outcome: ['succeeded', 'partial'],
    status: 'connected',
  },
  {
    name: 'responses slower than the client timeout',
    inject: ({ crm, size }) => void crm.faults.hang(size.clientTimeoutMs * 2.5, { times: 1, after: 2 }),
    outcome: ['succeeded', 'partial'],
    status: 'connected',
  },
  {
    name: 'access token expires mid-run',
    inject: ({ crm }) => void crm.faults.expireAccessTokens({ after: 2 }),
    outcome: ['succeeded'],
    status: 'connected',
  },
  {
    name: 'refresh token revoked',
    inject: ({ crm }) => {
      crm.faults.revokeRefreshTokens({ after: 2 });
      crm.faults.expireAccessTokens({ after: 2 });
    },
    outcome: ['failed'],
    cause: /refused to refresh|revoked|invalid_grant/i,
    status: 'needs_reconnect',
    recover: ({ connection }) => connection.reconnect(),
  },
  {
    name: 'one invalid record per batch',
    inject: ({ crm, invalid }) =>
      void crm.faults.recordErrors(
        (record) => [...invalid].some((email) => JSON.stringify(record).includes(email)),
        {
          message: 'Rejected by the fault-matrix validation rule',
          code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
        },
      ),
    outcome: ['partial'],
    cause: /Rejected by the fault-matrix validation rule/,
    status: 'connected',
    recover: async ({ crm }) => crm.faults.clear(),
  },
  {
    name: 'CRM down for minutes',
    inject: ({ crm, clock }) => {
      const outage = crm.faults.status(503, { message: 'Service Unavailable' }, undefined, {
        times: Number.POSITIVE_INFINITY,
        after: 2,
      });
      const endsAt = clock.nowMs + 5 * MINUTES;
      clock.onAdvance((now) => {
        if (now >= endsAt) crm.faults.clear(outage.id);
      });
    },
    outcome: ['failed'],
    cause: /503|unavailable/i,
    status: 'connected',
    // Five minutes pass on the run's clock; the outage is over.
    recover: async ({ clock }) => clock.advance(5 * MINUTES),
  },
  {
    name: 'PostgreSQL restarted mid-run',
    inject: ({ bed, crm, database }) =>
      bed.ports.get(crm.provider)!.arm(WRITE, 0, async () => {
        await terminateSessions(database.serverUrl, database.name);
      }),
    run: async ({ connection }) => {
      const runId = await connection.queueRun();
      // The worker may end the run itself or lose it with its database sessions; either way it must not hang.
      await connection.execute(runId).catch(() => undefined);
      return connection.run(runId);
    },
    outcome: ['failed', 'cancelled', 'partial', 'succeeded', 'running'],
    status: 'connected',
    recover: async ({ connection }) => void (await connection.reapOrphanedRuns()),
  },
  {
    name: 'worker killed mid-page',
    inject: ({ bed, crm, database, interrupt }) =>
      bed.ports.get(crm.provider)!.arm(WRITE, 0, async () => {
        // The CRM applied the write; the worker dies before it records anything: its sessions end (the lock
        // with them) and it never continues.
        await terminateSessions(database.serverUrl, database.name, 'pmcrm-sync-locks');
        interrupt();
        await bed.deadWorker();
      }),
    run: async ({ bed, connection, interrupted }) => {
      const runId = await connection.queueRun();
      // Does not settle while the test runs: the worker is gone.
      bed.buried(connection.execute(runId).catch(() => undefined));
      await interrupted;
      return connection.run(runId);
    },
    outcome: ['running'],
    status: 'connected',
    recover: async ({ connection }) => void (await connection.reapOrphanedRuns()),
  },
];

export type { Person };
