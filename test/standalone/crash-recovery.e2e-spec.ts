import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { approveAuthorization } from '@pm/sandboxes';
import { freePort } from '../../src/standalone/embedded-postgres';
import { MAIN, startServiceProcess, type ServiceProcess } from './service-process';

/**
 * The newcomer's crash: start, connect the demo HubSpot, sync a contact into it, create a service token while the
 * service runs, `kill -9` the service, start again. It recovers on its own (one line about the database the
 * killed run left behind), the connection still syncs, and what the demo CRM held before the crash is still there.
 */
const PLATFORM_TOKEN = 'platform-token-for-the-crash-test-0123456789';
const TOKEN_CREATE = join(MAIN, '..', 'cli', 'token-create.js');
const DEMO_RESET = join(MAIN, '..', 'cli', 'demo-reset.js');
const EMAIL = 'made-before-the-crash@example.com';

interface SyncRun {
  status: string;
  error: string | null;
  counts: Record<string, Record<string, { created: number }>>;
}

describe('recovery after kill -9, demo mode', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pmcrm-crash-'));
  let port: string;
  let service: ServiceProcess | undefined;

  const api = (path: string, init: RequestInit & { token?: string } = {}) =>
    fetch(`${service!.url}${path}`, {
      ...init,
      headers: {
        Authorization: `Bearer ${init.token ?? PLATFORM_TOKEN}`,
        'Content-Type': 'application/json',
      },
    });
  const start = async () =>
    (service = await startServiceProcess(
      { DATA_DIR: dataDir, PORT: port, LOG_LEVEL: 'warn', SERVICE_TOKEN: PLATFORM_TOKEN },
      /demo: data is kept across restarts[^\n]*\n/,
    ));

  /** "Sync now", then the run's outcome once the worker has finished it (the API's own run list is the signal). */
  async function syncNow(connectionId: string): Promise<SyncRun> {
    const queued = await api(`/api/v1/tenants/demo/connections/${connectionId}/sync`, { method: 'POST' });
    expect(queued.status).toBe(202);
    const runId = ((await queued.json()) as { run: { id: string } }).run.id;
    for (;;) {
      const runs = (await (
        await api(`/api/v1/tenants/demo/connections/${connectionId}/sync-runs`)
      ).json()) as (SyncRun & { id: string })[];
      const run = runs.find((candidate) => candidate.id === runId);
      if (run && !['queued', 'running'].includes(run.status)) return run;
      // Poll interval only: the loop ends on the run's recorded outcome, never on elapsed time.
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** The contact as the demo HubSpot has it, read with a grant of its own (not the service's). */
  async function inHubSpot(hubspotUrl: string): Promise<{ id: string } | undefined> {
    const grant = (await (
      await fetch(`${hubspotUrl}/__sandbox/oauth/tokens`, { method: 'POST' })
    ).json()) as { accessToken: string };
    const found = await fetch(`${hubspotUrl}/crm/v3/objects/contacts/${EMAIL}?idProperty=email`, {
      headers: { Authorization: `Bearer ${grant.accessToken}` },
    });
    return found.ok ? ((await found.json()) as { id: string }) : undefined;
  }

  const hubspotUrl = () => service!.output().match(/demo: HubSpot is the local sandbox at (\S+)/)![1];

  beforeAll(async () => {
    port = String(await freePort());
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('recovers on its own, and the connection, its CRM records and the service token survive; demo:reset forgets them', async () => {
    await start();
    expect(
      (await api('/api/v1/tenants/demo', { method: 'PUT', body: JSON.stringify({ name: 'Demo' }) })).status,
    ).toBe(200);
    const started = await api('/api/v1/tenants/demo/connections', {
      method: 'POST',
      body: JSON.stringify({ provider: 'hubspot' }),
    });
    const { authorizeUrl } = (await started.json()) as { authorizeUrl: string };
    // The start link binds the sign-in to this browser with a cookie, then sends it on to the CRM's consent page.
    const startLink = await fetch(authorizeUrl, { redirect: 'manual' });
    const cookie = startLink.headers
      .getSetCookie()
      .map((value) => value.split(';')[0])
      .join('; ');
    const consent = await approveAuthorization(startLink.headers.get('location') ?? '');
    expect(await (await fetch(consent.url, { headers: { cookie } })).text()).toContain('Connected to');
    const connections = (await (await api('/api/v1/tenants/demo/connections')).json()) as { id: string }[];
    const connectionId = connections[0].id;
    expect(
      (
        await api('/api/v1/tenants/demo/contacts', {
          method: 'POST',
          body: JSON.stringify({ email: EMAIL, firstName: 'Ada' }),
        })
      ).status,
    ).toBe(201);
    const before = await syncNow(connectionId);
    expect(before).toMatchObject({ status: 'succeeded', error: null });
    const recordBefore = await inHubSpot(hubspotUrl());
    expect(recordBefore).toBeDefined();
    const hubspotBefore = hubspotUrl();

    // A CLI command beside the running service, on the same embedded database (found through DATA_DIR).
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [TOKEN_CREATE, '--name', 'backend', '--tenant', 'demo'],
      {
        env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      },
    );
    const serviceToken = stdout.match(/: (pmcrm_\S+)/)![1];
    expect((await api('/api/v1/tenants/demo', { token: serviceToken })).status).toBe(200);

    await service!.kill();
    await start();

    expect(service!.output()).toMatch(
      /Embedded PostgreSQL in \S+ was left running by a process that is gone/,
    );
    expect(service!.output()).toMatch(/demo: HubSpot: \d+ saved change\(s\) replayed from/);
    expect(hubspotUrl()).toBe(hubspotBefore);
    expect(await inHubSpot(hubspotUrl())).toEqual(expect.objectContaining({ id: recordBefore!.id }));
    expect((await api('/api/v1/tenants/demo', { token: serviceToken })).status).toBe(200);
    const connection = (await (await api(`/api/v1/tenants/demo/connections/${connectionId}`)).json()) as {
      status: string;
    };
    expect(connection.status).toBe('connected');
    const after = await syncNow(connectionId);
    expect(after).toMatchObject({ status: 'succeeded', error: null });

    // A clean stop after all this logs no error.
    const outputBeforeStop = service!.output().length;
    expect(await service!.stop()).toBe(0);
    expect(service!.output().slice(outputBeforeStop)).not.toMatch(/"level":(50|60)|ERROR|Error:/);
    service = undefined;

    // Starting the demo over says what it forgets.
    const reset = await promisify(execFile)(process.execPath, [DEMO_RESET], {
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir },
    });
    expect(reset.stdout).toMatch(
      /removed \S+demo \(.*hubspot: [1-9]\d* saved change\(s\), [1-9]\d* OAuth grant\(s\)/,
    );
    expect(existsSync(join(dataDir, 'demo'))).toBe(false);
  }, 300_000);
});
