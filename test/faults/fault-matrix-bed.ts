import type { INestApplication } from '@nestjs/common';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Contact, CrmConnection, SyncRun } from '@pm/domain';
import { DEFAULT_RETRY_POLICY } from '@pm/connector-kit';
import type { CrmSession, IntegrationPort } from '@pm/integration-port';
import { DefaultFieldMappingSource, decodeCrmRecord, type SessionProvider } from '@pm/sync-engine';
import { Client } from 'pg';
import {
  ACTIVITY_DELIVERY_OPTIONS,
  ActivityDeliveryService,
  type DeliveryOutcome,
} from '../../src/crm-integrations/activities/activity-delivery.service';
import { ActivityIngestService } from '../../src/crm-integrations/activities/activity-ingest.service';
import { ContactService } from '../../src/crm-integrations/contacts/contact.service';
import { CRM_ORM } from '../../src/crm-integrations/database/crm-database';
import { SyncExecutor } from '../../src/crm-integrations/sync/sync-executor';
import { SyncLocks } from '../../src/crm-integrations/sync/sync-locks';
import { SyncQueue } from '../../src/crm-integrations/sync/sync-queue';
import { SyncRunReaper } from '../../src/crm-integrations/sync/sync-run-reaper';
import { SyncRuns } from '../../src/crm-integrations/sync/sync-runs';
import { SyncService } from '../../src/crm-integrations/sync/sync.service';
import {
  inRequest,
  seedConnection,
  startSyncTestApp,
} from '../../src/crm-integrations/sync/testing/sync-test-app';
import { TokenVault } from '../../src/crm-integrations/vault/token-vault';
import type { CrmUnderFault, Person } from './crms-under-fault';

/**
 * The clock the run's waits move (retry backoffs, Retry-After, the rate budget): a wait advances it at once, so a
 * storm or an outage of minutes costs no real time. Listeners see each advance (an outage ends at its instant).
 */
export class SteppingClock {
  nowMs = Date.now();
  private readonly listeners: ((nowMs: number) => void)[] = [];

  readonly sleep = async (ms: number): Promise<void> => this.advance(ms);

  advance(ms: number): void {
    this.nowMs += Math.max(0, ms);
    for (const listener of this.listeners) listener(this.nowMs);
  }

  onAdvance(listener: (nowMs: number) => void): void {
    this.listeners.push(listener);
  }
}

const INTERRUPTIBLE = new Set<PropertyKey>(['readChanges', 'findByEmail', 'upsertBatch', 'getRecords']);

/**
 * A port whose calls can be interrupted once at a chosen call of a chosen method, after the CRM answered (the write
 * was applied): the test's way to stop PostgreSQL or "kill" the worker exactly mid-page.
 */
export class InterruptiblePort {
  readonly port: IntegrationPort;
  private armed?: { method: keyof IntegrationPort; after: number; then: () => Promise<void> };

  constructor(inner: IntegrationPort) {
    this.port = new Proxy(inner, {
      get: (target, key, receiver) => {
        const value: unknown = Reflect.get(target, key, receiver);
        if (typeof value !== 'function') return value;
        if (!INTERRUPTIBLE.has(key)) return (value as (...a: unknown[]) => unknown).bind(target);
        return async (...args: unknown[]) => {
          const answer: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          const armed = this.armed;
          if (armed && armed.method === key && armed.after-- <= 0) {
            this.armed = undefined;
            await armed.then();
          }
          return answer;
        };
      },
    });
  }

  /** After the CRM answered the `after`+1-th `method` call, runs `then` before the engine sees the answer. */
  arm(method: keyof IntegrationPort, after: number, then: () => Promise<void>): void {
    this.armed = { method, after, then };
  }

  disarm(): void {
    this.armed = undefined;
  }
}

/** Ends every session of `database` but the caller's: what a PostgreSQL restart does to the service's pools. */
export async function terminateSessions(
  serverUrl: string,
  database: string,
  appName?: string,
): Promise<number> {
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const answer = await admin.query<{ pid: number }>(
      `select pid, pg_terminate_backend(pid) from pg_stat_activity
        where datname = $1 and pid <> pg_backend_pid() and ($2::text is null or application_name = $2)`,
      [database, appName ?? null],
    );
    return answer.rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

export interface MatrixApp {
  /** Never settles while the app runs: a "killed" worker's calls wait here; they fail when the app closes. */
  deadWorker(): Promise<never>;
  /** A killed worker's execution, which the app lets unwind before it closes. */
  buried(execution: Promise<unknown>): void;
  app: INestApplication;
  orm: MikroORM;
  vault: TokenVault;
  ports: Map<string, InterruptiblePort>;
  close(): Promise<void>;
}

/**
 * The feature module as a worker runs it (SyncExecutor: run rows, the token vault's sessions and refreshes, the
 * connection's health, the rate budget), with the CRMs' connectors behind `InterruptiblePort`s and every wait on
 * `clock`.
 */
export async function startMatrixApp(
  databaseUrl: string,
  crms: CrmUnderFault[],
  clock: SteppingClock,
  tuning: { readPageSize: number; localPageSize: number },
): Promise<MatrixApp> {
  const ports = new Map(crms.map((crm) => [crm.provider, new InterruptiblePort(crm.connector)]));
  const bound: { vault?: TokenVault } = {};
  // The engine's sessions come from the app's own vault, as vaultSessionProvider binds them in production.
  const sessions: SessionProvider = {
    getSession: (connectionId) => bound.vault!.session(connectionId),
    refreshSession: (connectionId, stale) => bound.vault!.refresh(connectionId, stale),
  };
  const app = await startSyncTestApp({
    databaseUrl,
    connectors: Object.fromEntries([...ports].map(([provider, port]) => [provider, port.port])),
    sessions,
    executor: {
      enabledCheckMs: 60_000,
      runner: {
        sleep: clock.sleep,
        readPageSize: tuning.readPageSize,
        localPageSize: tuning.localPageSize,
        localOverlapMs: 0,
        retryPolicy: { ...DEFAULT_RETRY_POLICY, random: () => 0.5 },
      },
      budgetClock: { now: () => clock.nowMs, sleep: clock.sleep },
    },
    providers: [
      {
        provide: ACTIVITY_DELIVERY_OPTIONS,
        useValue: {
          sleep: clock.sleep,
          retryPolicy: { ...DEFAULT_RETRY_POLICY, random: () => 0.5 },
          budgetClock: { now: () => clock.nowMs, sleep: clock.sleep },
        },
      },
    ],
  });
  const vault = app.get(TokenVault);
  bound.vault = vault;
  const dead: ((error: Error) => void)[] = [];
  const executions: Promise<unknown>[] = [];
  return {
    deadWorker: () => new Promise<never>((_resolve, reject) => dead.push(reject)),
    buried: (execution) => void executions.push(execution),
    app,
    orm: app.get<MikroORM>(CRM_ORM),
    vault,
    ports,
    close: async () => {
      for (const reject of dead.splice(0)) reject(new Error('the killed worker is gone'));
      // The dead runs unwind (they release their lock sessions) before the pools close.
      await Promise.allSettled(executions.splice(0));
      await app.close();
    },
  };
}

/** One tenant's connection to one CRM inside the matrix app, with the operations a case needs. */
export class MatrixConnection {
  private readonly auth = { actor: 'fault-matrix', tenantId: null };
  private readonly mapping;

  private constructor(
    private readonly bed: MatrixApp,
    readonly crm: CrmUnderFault,
    readonly tenantId: string,
    readonly connectionId: string,
  ) {
    this.mapping = new DefaultFieldMappingSource(crm.connector).mappingFor(null, crm.object)!;
  }

  /** A fresh connection signed in through the sandbox's consent page; its tokens sealed in the vault. */
  static async connect(bed: MatrixApp, crm: CrmUnderFault, tenantId: string): Promise<MatrixConnection> {
    const entity = await seedConnection(bed.app, {
      tenantId,
      provider: crm.provider,
      settings: { objects: [crm.object], frequency: 'manual' },
    });
    const connection = new MatrixConnection(bed, crm, tenantId, entity.id);
    await connection.reconnect();
    return connection;
  }

  /** Signs in again and stores the tokens, as the OAuth callback does on a reconnect. */
  async reconnect(): Promise<void> {
    const tokens = await this.crm.signIn();
    await this.bed.orm.em.fork().nativeUpdate(
      CrmConnection,
      { id: this.connectionId },
      {
        status: 'connected',
        statusReason: null,
        health: 'healthy',
        healthReason: null,
        crmAccountId: tokens.account.id,
        instanceUrl: tokens.instanceUrl ?? null,
      },
    );
    await this.bed.vault.save(this.connectionId, tokens);
  }

  /** "Sync now" and the worker's execution of that job, in this process. */
  async sync(): Promise<SyncRun> {
    const runId = await this.queueRun();
    await this.execute(runId);
    return this.run(runId);
  }

  /** The worker's execution of a queued run's job. */
  async execute(runId: string): Promise<void> {
    await this.bed.app
      .get(SyncExecutor)
      .execute({ connectionId: this.connectionId, tenantId: this.tenantId, runId });
  }

  async queueRun(): Promise<string> {
    const app = this.bed.app;
    const { run } = await inRequest(app, () =>
      app.get(SyncService).syncNow(this.auth, this.tenantId, this.connectionId),
    );
    return run.id;
  }

  run(runId: string): Promise<SyncRun> {
    return this.bed.orm.em.fork().findOneOrFail(SyncRun, { id: runId });
  }

  /** Ends runs whose worker is gone, as every worker does on start and each minute. */
  reapOrphanedRuns(): Promise<string[]> {
    const app = this.bed.app;
    return new SyncRunReaper(app.get(SyncRuns), app.get(SyncLocks), app.get(SyncQueue)).reapOrphanedRuns();
  }

  connection(): Promise<CrmConnection> {
    return this.bed.orm.em.fork().findOneOrFail(CrmConnection, { id: this.connectionId });
  }

  /** The connection's log lines about failures (record errors, status changes), newest last. */
  async failuresLogged(): Promise<{ recordKey: string | null; action: string; message: string }[]> {
    return this.bed.orm.em.getConnection().execute(
      `select record_key as "recordKey", action, message from sync_log_entries
          where connection_id = ? and action in ('error', 'status_changed') order by id`,
      [this.connectionId],
    );
  }

  /** E-mail events from the PenguinMails backend, as the activity ingest takes them. */
  async ingest(events: Record<string, unknown>[]): Promise<void> {
    const app = this.bed.app;
    await inRequest(app, () => app.get(ActivityIngestService).ingest(this.auth, this.tenantId, events));
  }

  /** One activity delivery job for the connection, as the activity worker runs it. */
  deliver(): Promise<DeliveryOutcome> {
    return this.bed.app.get(ActivityDeliveryService).deliver(this.connectionId);
  }

  async upsertLocal(person: Partial<Person> & { email: string }): Promise<void> {
    const app = this.bed.app;
    await inRequest(app, () => app.get(ContactService).upsert(this.auth, this.tenantId, person));
  }

  /** Every local row with this e-mail (more than one would be a duplicate). */
  async localRows(email: string): Promise<Contact[]> {
    return this.bed.orm.em.fork().find(Contact, { tenant: this.tenantId, email, deletedAt: null });
  }

  /** The CRM's records with this e-mail, decoded to the product's field names. */
  async remoteRows(email: string): Promise<Record<string, unknown>[]> {
    const session: CrmSession = await this.bed.vault.session(this.connectionId);
    const records = await this.crm.connector.findByEmail(session, this.crm.object, [email]);
    return records.map((record) => decodeCrmRecord(this.mapping, record.fields));
  }
}
