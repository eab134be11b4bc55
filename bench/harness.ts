import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Global, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Contact, RecordLink } from '@pm/domain';
import type { ConnectorCapabilities, IntegrationPort } from '@pm/integration-port';
import { approveAuthorization, type SandboxServer } from '@pm/sandboxes';
import { CRM_ORM, setupCrmHttp } from '../src/crm-integrations';
import { SYNC_QUEUE_OPTIONS, SyncWorkersModule } from '../src/crm-integrations/sync';
import { prepareRuntime, type StandaloneRuntime } from '../src/standalone/runtime';
import { StandaloneModule } from '../src/standalone/standalone.module';
import type { BenchCrm, BenchPerson } from './crms';
import { createBenchDatabase } from './database';

/** Whether the service's own rate budget applies the CRM's declared limits (the "limits off" cases turn it off). */
export interface BudgetSwitch {
  declaredLimits: boolean;
}

/**
 * The connector as the service runs it, except that its declared rate limits can be hidden from the service's
 * rate budget (PgRateBudget plans from `capabilities().rateLimits`). Everything else goes straight through.
 */
function switchablePort(port: IntegrationPort, budget: BudgetSwitch): IntegrationPort {
  return new Proxy(port, {
    get(target, property) {
      if (property === 'capabilities') {
        return (): ConnectorCapabilities => {
          const capabilities = target.capabilities();
          return budget.declaredLimits ? capabilities : { ...capabilities, rateLimits: [] };
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Counts the 429s a sandbox answers: every request its rate limiters refuse. */
function countRefusals(crm: BenchCrm, sandbox: SandboxServer): () => number {
  let refused = 0;
  for (const limiter of crm.limiters(sandbox)) {
    const take = limiter.take.bind(limiter);
    limiter.take = (account, cost) => {
      const decision = take(account, cost);
      if (!decision.allowed) refused++;
      return decision;
    };
  }
  return () => refused;
}

export interface BenchSandbox {
  crm: BenchCrm;
  sandbox: SandboxServer;
  port: IntegrationPort;
  /** 429s answered so far. */
  refusals(): number;
}

export interface SyncRunView {
  id: string;
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  counts: Record<string, Record<string, Record<string, number>>>;
}

/** A sandbox running in a process of its own (the memory cases): where it listens and its OAuth client. */
export interface RemoteSandboxAddress {
  crm: BenchCrm;
  baseUrl: string;
  clientId: string;
  clientSecret: string;
}

/** A run still going when its case's time was up. */
export class RunTimeoutError extends Error {
  constructor(
    readonly runId: string,
    readonly timeoutMs: number,
  ) {
    super(`run ${runId} still running after ${Math.round(timeoutMs / 1000)} s`);
  }
}

const FINISHED = new Set(['succeeded', 'partial', 'failed', 'cancelled']);

/**
 * A free loopback port, so the service's PUBLIC_URL is where it really listens: HubSpot signs the URL it calls, and
 * the receiver checks the signature against PUBLIC_URL.
 */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The service as `npm start` builds it (StandaloneModule with the CrmIntegrationsModule plugin, its HTTP API, the
 * pg-boss sync workers with the PgRateBudget) on a fresh database, with each CRM's connector pointed at its sandbox.
 * The benchmark drives it only through its HTTP API, as the PenguinMails backend and a user would.
 */
export class BenchService {
  private constructor(
    /** Flip `declaredLimits` to run with the service's rate budget off (the ports read this object). */
    readonly budget: BudgetSwitch,
    readonly app: NestExpressApplication,
    readonly url: string,
    readonly sandboxes: Map<string, BenchSandbox>,
    private readonly token: string,
    private readonly runtime: StandaloneRuntime,
    private readonly dropBenchDatabase: () => Promise<void>,
  ) {}

  /** `remote`: sandboxes another process runs, reached over HTTP only (absent from `sandboxes`). */
  static async start(
    serverUrl: string,
    crms: readonly BenchCrm[],
    remote: readonly RemoteSandboxAddress[] = [],
  ): Promise<BenchService> {
    const database = await createBenchDatabase(serverUrl);
    const sandboxes = new Map<string, BenchSandbox>();
    const budget: BudgetSwitch = { declaredLimits: true };
    let dropDataDir: () => void = () => undefined;
    try {
      for (const crm of crms) {
        const sandbox = crm.createSandbox();
        await sandbox.start();
        sandboxes.set(crm.id, {
          crm,
          sandbox,
          port: crm.connector(sandbox),
          refusals: countRefusals(crm, sandbox),
        });
      }
      const token = `bench-${randomBytes(24).toString('hex')}`;
      // The runtime keeps its generated secrets here; nothing of it outlives the benchmark.
      const dataDir = mkdtempSync(join(tmpdir(), 'pm-crm-bench-data-'));
      dropDataDir = () => rmSync(dataDir, { recursive: true, force: true });
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const runtime = await prepareRuntime(
        {
          DATABASE_URL: database.url,
          DATA_DIR: dataDir,
          SERVICE_TOKEN: token,
          PUBLIC_URL: url,
          LOG_LEVEL: 'silent',
          DEMO_SANDBOXES: 'off',
          RUN_WORKERS: 'false',
          PORT: '0',
        },
        { crms: false },
      );
      const connectors = Object.fromEntries([
        ...[...sandboxes.values()].map(({ crm, port }) => [crm.id, switchablePort(port, budget)]),
        // A connector needs only the sandbox's address and OAuth client.
        ...remote.map(({ crm, baseUrl, clientId, clientSecret }) => {
          const address = { baseUrl, oauth: { clientId, clientSecret } } as unknown as SandboxServer;
          return [crm.id, switchablePort(crm.connector(address), budget)];
        }),
      ]);
      // HubSpot signs its app webhooks with the app's client secret (the standalone service takes it from its
      // HubSpot client, which the benchmark replaces with the sandbox's).
      const hubspotSecret =
        sandboxes.get('hubspot')?.sandbox.oauth.clientSecret ??
        remote.find(({ crm }) => crm.id === 'hubspot')?.clientSecret;
      const app = await NestFactory.create<NestExpressApplication>(
        StandaloneModule.forRoot(runtime, [queueTuning(), SyncWorkersModule.forRoot({ scheduler: false })], {
          connectors,
          webhookSecrets: { hubspot: hubspotSecret },
        }),
        { logger: false },
      );
      setupCrmHttp(app);
      await app.listen(port, '127.0.0.1');
      return new BenchService(budget, app, url, sandboxes, token, runtime, async () => {
        dropDataDir();
        await database.drop();
      });
    } catch (error) {
      for (const { sandbox } of sandboxes.values()) await sandbox.stop();
      await database.drop().catch(() => undefined);
      dropDataDir();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.app.close();
    await this.runtime.stop();
    for (const { sandbox } of this.sandboxes.values()) await sandbox.stop();
    await this.dropDatabase();
  }

  /** Drops the benchmark's database (again, harmlessly, after stop()); for a process leaving in a hurry. */
  dropDatabase(): Promise<void> {
    return this.dropBenchDatabase();
  }

  sandboxFor(crm: BenchCrm): BenchSandbox {
    const found = this.sandboxes.get(crm.id);
    if (!found) throw new Error(`no sandbox started for ${crm.label}`);
    return found;
  }

  /** The service's HTTP API with the benchmark's platform token. */
  async api<T>(method: string, path: string, body?: unknown, expected = [200, 201, 202]): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!expected.includes(response.status)) {
      throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * A tenant connects the CRM through the sandbox's consent page (Allow), as a user would; the connection then
   * syncs the CRM's contact object both ways, on demand only.
   */
  async connect(tenantId: string, crm: BenchCrm): Promise<string> {
    await this.api('PUT', `/api/v1/tenants/${tenantId}`, { name: tenantId });
    const started = await this.api<{ authorizeUrl: string }>(
      'POST',
      `/api/v1/tenants/${tenantId}/connections`,
      { provider: crm.id },
    );
    // The answer is our start link: opening it binds the sign-in to this "browser" with a cookie, then redirects
    // to the CRM's consent page; the callback must bring the cookie back.
    const link = new URL(started.authorizeUrl);
    const start = await fetch(new URL(`${link.pathname}${link.search}`, this.url), { redirect: 'manual' });
    const location = start.headers.get('location');
    if (start.status !== 302 || !location)
      throw new Error(`${crm.label} start link answered ${start.status}`);
    const cookie = (start.headers.getSetCookie?.() ?? []).map((value) => value.split(';')[0]).join('; ');
    const redirect = await approveAuthorization(location);
    if (!redirect.code) throw new Error(`${crm.label} consent answered ${redirect.error ?? 'no code'}`);
    const callback = new URL(redirect.url.pathname, this.url);
    callback.searchParams.set('code', redirect.code);
    callback.searchParams.set('state', redirect.state ?? '');
    const page = await fetch(callback, { headers: { cookie } });
    if (page.status !== 200) throw new Error(`${crm.label} OAuth callback answered ${page.status}`);
    const [connection] = await this.api<{ id: string }[]>('GET', `/api/v1/tenants/${tenantId}/connections`);
    await this.api('PATCH', `/api/v1/tenants/${tenantId}/connections/${connection.id}/settings`, {
      objects: [crm.object],
      direction: 'bidirectional',
      frequency: 'manual',
    });
    return connection.id;
  }

  /**
   * Loads contacts into PenguinMails in bulk (the platform's own data, before any sync): one INSERT … SELECT per
   * 10,000 from a JSON array, so the loading adds next to nothing to this process's memory (the memory cases measure
   * the worker, not the loading).
   */
  async seedLocal(tenantId: string, people: BenchPerson[]): Promise<void> {
    const connection = this.app.get<MikroORM>(CRM_ORM).em.getConnection();
    // Millisecond timestamps, as the service writes them (its keyset cursors carry JavaScript dates).
    const now = new Date();
    for (let start = 0; start < people.length; start += 10_000) {
      const rows = people.slice(start, start + 10_000).map((person) => ({
        email: person.email.trim().toLowerCase(),
        first_name: person.firstName,
        last_name: person.lastName,
      }));
      await connection.execute(
        `insert into contacts (id, tenant_id, email, first_name, last_name, custom_fields, created_at, updated_at)
         select gen_random_uuid(), ?, p.email, p.first_name, p.last_name, '{}', ?, ?
         from jsonb_to_recordset(?::jsonb) as p(email text, first_name text, last_name text)`,
        [tenantId, now, now, JSON.stringify(rows)],
      );
    }
  }

  /**
   * Loads `count` contacts into PenguinMails, the same as `seedLocal(tenantId, benchPeople(count, tenantId))`, in one
   * set-based statement that PostgreSQL runs on its own (generate_series): nothing of the contacts passes through this
   * process, so a memory case's figures are the service's alone, whatever the count.
   */
  async seedLocalPeople(tenantId: string, count: number): Promise<void> {
    const connection = this.app.get<MikroORM>(CRM_ORM).em.getConnection();
    const now = new Date();
    // lpad cuts a longer text to the length: the width is at least the number's own, as padStart leaves it.
    await connection.execute(
      `insert into contacts (id, tenant_id, email, first_name, last_name, custom_fields, created_at, updated_at)
       select gen_random_uuid(), ?,
              lower(?::text || '.' || lpad(i::text, greatest(6, length(i::text)), '0') || '@bench.example'),
              'First' || i, 'Last' || i, '{}', ?, ?
       from generate_series(0, ?::int - 1) as i`,
      [tenantId, tenantId, now, now, count],
    );
  }

  /**
   * Ids of the tenant's first `count` contacts (by e-mail), leaving out those the connection links to `notLinkedTo`
   * (CRM ids): a contact edited on both sides is one conflict, not two changes.
   */
  async localIds(
    tenantId: string,
    count: number,
    connectionId: string,
    notLinkedTo: string[],
  ): Promise<string[]> {
    const em = this.app.get<MikroORM>(CRM_ORM).em.fork();
    const linked = await em.find(
      RecordLink,
      { connection: connectionId, crmId: { $in: notLinkedTo } },
      { fields: ['localId'] },
    );
    const rows = await em.find(
      Contact,
      { tenant: tenantId, id: { $nin: linked.map((link) => link.localId) } },
      { orderBy: { email: 'asc' }, limit: count, fields: ['id'] },
    );
    return rows.map((row) => row.id);
  }

  /** A user edits a contact in PenguinMails (the contacts API). */
  async editLocal(tenantId: string, contactId: string, lastName: string): Promise<void> {
    await this.api('PATCH', `/api/v1/tenants/${tenantId}/contacts/${contactId}`, { lastName });
  }

  /** The tenant's contacts with their e-mails and last names. */
  async localContacts(tenantId: string): Promise<Array<{ id: string; email: string; lastName?: string }>> {
    const orm = this.app.get<MikroORM>(CRM_ORM);
    const rows = await orm.em
      .fork()
      .find(Contact, { tenant: tenantId, deletedAt: null }, { fields: ['id', 'email', 'lastName'] });
    return rows.map((row) => ({ id: row.id, email: row.email, lastName: row.lastName ?? undefined }));
  }

  async localCount(tenantId: string): Promise<number> {
    return this.app.get<MikroORM>(CRM_ORM).em.fork().count(Contact, { tenant: tenantId, deletedAt: null });
  }

  /** "Sync now", then waits until the worker has finished the run (polling the sync runs list). */
  async syncNow(tenantId: string, connectionId: string, timeoutMs: number): Promise<SyncRunView> {
    const base = `/api/v1/tenants/${tenantId}/connections/${connectionId}`;
    const { run } = await this.api<{ run: SyncRunView }>('POST', `${base}/sync`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const runs = await this.api<SyncRunView[]>('GET', `${base}/sync-runs?limit=5`);
      const current = runs.find((candidate) => candidate.id === run.id);
      if (current && FINISHED.has(current.status)) return current;
      if (Date.now() > deadline) throw new RunTimeoutError(run.id, timeoutMs);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Stops a run that overran its case: the tenant disconnects the CRM (the worker notices within its enabled-check
   * interval and stops after the page in flight), and the run is waited for a few seconds. A run waiting on its rate budget does not stop (no abort reaches the
   * budget): it ends with its process.
   */
  async abandon(tenantId: string, connectionId: string, runId: string): Promise<void> {
    const base = `/api/v1/tenants/${tenantId}/connections/${connectionId}`;
    await this.api('DELETE', base);
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const runs = await this.api<SyncRunView[]>('GET', `${base}/sync-runs?limit=5`).catch(() => []);
      const run = runs.find((candidate) => candidate.id === runId);
      if (!run || FINISHED.has(run.status)) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/**
 * Workers poll the queue every half second (the default 2 s would dominate the short runs) and take up to four jobs
 * at once (one per connection), so the three CRMs' cases can run side by side.
 */
function queueTuning(): DynamicModule {
  @Global()
  @Module({})
  class BenchQueueTuning {}
  const provider = {
    provide: SYNC_QUEUE_OPTIONS,
    useValue: { pollingIntervalSeconds: 0.5, workerConcurrency: 4 },
  };
  return { module: BenchQueueTuning, global: true, providers: [provider], exports: [provider.provide] };
}
