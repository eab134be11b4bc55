import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/standalone/embedded-postgres';

/**
 * The service as `npm start` runs it: the compiled build (`npm test` builds first) on the embedded database,
 * started as a real process. Covers restart persistence, two services side by side, and config errors.
 */
const MAIN = join(__dirname, '..', '..', 'dist', 'src', 'main.js');
const PLATFORM_TOKEN = 'platform-token-for-the-process-test-0123456789';

interface RunningService {
  process: ChildProcessWithoutNullStreams;
  url: string;
  output: () => string;
  stop(): Promise<number | null>;
}

async function startService(env: Record<string, string>): Promise<RunningService> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', SERVICE_TOKEN: PLATFORM_TOKEN, ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start in 120 s:\n${output}`)), 120_000);
    const check = () => {
      // Wait for the whole start banner (listen URL, then the line naming the database).
      const match = output.match(/listening on (http:\/\/\S+)[\s\S]*database: [^\n]*\n/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}:\n${output}`));
    });
  });
  return {
    process: child,
    url,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

const api = (service: RunningService, path: string, init: RequestInit = {}) =>
  fetch(`${service.url}${path}`, {
    ...init,
    headers: {
      Authorization: `Bearer ${PLATFORM_TOKEN}`,
      'Content-Type': 'application/json',
      ...(init.headers ?? {}),
    },
  });

// Two service starts per test: on a busy 2-core machine a start alone can take most of a minute.
jest.setTimeout(240_000);

describe('standalone service process', () => {
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run through \`npm test\` (it builds first)`);
  });

  it('keeps its data across a restart on the embedded database', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pmcrm-restart-'));
    const port = String(await freePort());
    const first = await startService({ DATA_DIR: dataDir, PORT: port });
    expect(first.output()).toContain('embedded PostgreSQL');
    expect((await api(first, '/health')).status).toBe(200);
    expect(
      (await api(first, '/api/v1/tenants/acme', { method: 'PUT', body: JSON.stringify({ name: 'Acme' }) }))
        .status,
    ).toBe(200);
    expect(await first.stop()).toBe(0);

    // The encryption key was generated into DATA_DIR, private to its owner.
    const keyFile = join(dataDir, 'secrets', 'token-encryption-key.json');
    expect(statSync(keyFile).mode & 0o077).toBe(0);

    const second = await startService({ DATA_DIR: dataDir, PORT: port });
    try {
      const tenant = await api(second, '/api/v1/tenants/acme');
      expect(tenant.status).toBe(200);
      expect(await tenant.json()).toMatchObject({ id: 'acme', name: 'Acme' });
    } finally {
      await second.stop();
    }
  });

  it('runs two services side by side with different PORT and DATA_DIR', async () => {
    const [a, b] = await Promise.all([
      startService({ DATA_DIR: mkdtempSync(join(tmpdir(), 'pmcrm-a-')), PORT: String(await freePort()) }),
      startService({ DATA_DIR: mkdtempSync(join(tmpdir(), 'pmcrm-b-')), PORT: String(await freePort()) }),
    ]);
    try {
      expect(a.url).not.toBe(b.url);
      await api(a, '/api/v1/tenants/only-in-a', { method: 'PUT', body: JSON.stringify({ name: 'A' }) });
      expect((await api(a, '/health')).status).toBe(200);
      expect((await api(b, '/health')).status).toBe(200);
      expect((await api(a, '/api/v1/tenants/only-in-a')).status).toBe(200);
      expect((await api(b, '/api/v1/tenants/only-in-a')).status).toBe(404);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('stops at start with one line naming a bad variable', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', PORT: 'not-a-port' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^Invalid configuration: PORT: .*\(got "not-a-port"\)$/),
    ]);
  });
});
