import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { SecretBox } from '@pm/domain';
import { approveAuthorization } from '@pm/sandboxes';
import { freePort } from '../../src/standalone/embedded-postgres';

/**
 * `npm start` with nothing configured: every CRM runs against its local sandbox (demo mode), and a newcomer can run
 * the whole Connect flow. Run with LOG_LEVEL=trace, and afterwards no token the service holds appears in its output.
 */
const MAIN = join(__dirname, '..', '..', 'dist', 'src', 'main.js');
const PLATFORM_TOKEN = 'platform-token-for-the-demo-test-0123456789';

// A start with three sandboxes on a busy 2-core machine can take most of a minute.
jest.setTimeout(180_000);

describe('demo mode: npm start with no CRM configured', () => {
  let child: ChildProcessWithoutNullStreams;
  let output = '';
  let url: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'pmcrm-demo-'));

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${PLATFORM_TOKEN}`, 'Content-Type': 'application/json' },
    });

  beforeAll(async () => {
    child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        DATA_DIR: dataDir,
        PORT: String(await freePort()),
        LOG_LEVEL: 'trace',
        SERVICE_TOKEN: PLATFORM_TOKEN,
      },
    });
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start in 120 s:\n${output}`)), 120_000);
      const check = () => {
        const match = output.match(/listening on (http:\/\/\S+)[\s\S]*demo: Pipedrive[^\n]*\n/);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout.on('data', check);
      child.on('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
    });
  });

  afterAll(async () => {
    child.removeAllListeners('exit');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });

  it('says at start which CRMs run against a local sandbox', () => {
    for (const crm of ['Salesforce', 'HubSpot', 'Pipedrive']) {
      expect(output).toMatch(new RegExp(`demo: ${crm} is the local sandbox at http://127\\.0\\.0\\.1:\\d+`));
    }
  });

  it('connects each CRM through its sandbox sign-in page, and never logs a token', async () => {
    expect(
      (await api('/api/v1/tenants/demo', { method: 'PUT', body: JSON.stringify({ name: 'Demo' }) })).status,
    ).toBe(200);
    for (const provider of ['salesforce', 'hubspot', 'pipedrive']) {
      const started = await api('/api/v1/tenants/demo/connections', {
        method: 'POST',
        body: JSON.stringify({ provider }),
      });
      expect(started.status).toBe(201);
      const { authorizeUrl: startUrl } = (await started.json()) as { authorizeUrl: string };
      // The browser opens our start link, which sets the cookie binding the sign-in to it, then the CRM's page.
      const start = await fetch(startUrl, { redirect: 'manual' });
      expect(start.status).toBe(302);
      const binding = start.headers.getSetCookie().find((cookie) => cookie.startsWith('pm_crm_oauth_'));
      expect(binding).toMatch(/HttpOnly/i);
      const redirect = await approveAuthorization(start.headers.get('location')!);
      expect(redirect.url.toString().startsWith(`http://localhost:`)).toBe(true);
      const page = await fetch(redirect.url, {
        redirect: 'manual',
        headers: { Cookie: binding!.split(';')[0] },
      });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Connected to');
    }
    const connections = (await (await api('/api/v1/tenants/demo/connections')).json()) as {
      provider: string;
      status: string;
      id: string;
    }[];
    expect(connections.map((c) => [c.provider, c.status]).sort()).toEqual([
      ['hubspot', 'connected'],
      ['pipedrive', 'connected'],
      ['salesforce', 'connected'],
    ]);

    // What the vault holds, read the hard way: the sealed rows and the key in DATA_DIR.
    const key = JSON.parse(readFileSync(join(dataDir, 'secrets', 'token-encryption-key.json'), 'utf8')) as {
      id: string;
      key: string;
    };
    const box = new SecretBox({ id: key.id, key: Buffer.from(key.key, 'base64') });
    const port = readFileSync(join(dataDir, 'postgres.port'), 'utf8').trim();
    const db = new Client({
      connectionString: `postgresql://postgres:postgres@127.0.0.1:${port}/crm_integrations`,
    });
    await db.connect();
    const rows = (await db.query('select connection_id, key_id, sealed from connection_credentials'))
      .rows as { connection_id: string; key_id: string; sealed: string }[];
    await db.end();
    expect(rows).toHaveLength(3);
    const secrets = rows.flatMap((row) => {
      const tokens = JSON.parse(box.open({ keyId: row.key_id, sealed: row.sealed }, row.connection_id)) as {
        accessToken: string;
        refreshToken?: string;
      };
      return [tokens.accessToken, tokens.refreshToken].filter((t): t is string => Boolean(t));
    });
    expect(secrets.length).toBeGreaterThanOrEqual(5);

    const hubspot = connections.find((c) => c.provider === 'hubspot')!;
    expect((await api(`/api/v1/tenants/demo/connections/${hubspot.id}`, { method: 'DELETE' })).status).toBe(
      200,
    );

    // Requests that carried codes and tokens were logged, so there was something to leak into — with the path only.
    expect(output).toContain('"url":"/oauth/salesforce/callback"');
    expect(output).not.toMatch(/callback\?code=/);
    for (const secret of secrets) expect(output).not.toContain(secret);
  });
});
