import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import { CrmConnection, Tenant } from '@pm/domain';
import { CRM_ORM } from '../../src/crm-integrations';
import { TokenVault } from '../../src/crm-integrations/vault/token-vault';
import { startTestApp, type TestApp } from '../support/test-app';
import { MAIN } from './service-process';

/** Runs the compiled service until it exits; resolves to its exit code and everything it printed. */
function runService(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/**
 * Issue 14, secret hygiene: a service started with another encryption key than the one that sealed the stored CRM
 * tokens stops at once with one clear message, instead of starting and failing every sync.
 */
describe('a wrong token encryption key', () => {
  const keyA = randomBytes(32).toString('base64');
  let testApp: TestApp;
  let dataDir: string;

  beforeAll(async () => {
    testApp = await startTestApp({ TOKEN_ENCRYPTION_KEY: keyA, TOKEN_ENCRYPTION_KEY_ID: 'k1' });
    const em = testApp.app.get<MikroORM>(CRM_ORM).em.fork();
    const connection = em.create(CrmConnection, {
      tenant: em.create(Tenant, { id: 'acme', name: 'Acme' }),
      provider: 'hubspot',
      status: 'connected',
      connectedAt: new Date(),
    });
    await em.flush();
    await testApp.app.get(TokenVault).save(connection.id, {
      accessToken: `access-${randomBytes(12).toString('hex')}`,
      refreshToken: `refresh-${randomBytes(12).toString('hex')}`,
      account: { id: 'portal-1' },
    });
    dataDir = mkdtempSync(join(tmpdir(), 'pmcrm-wrong-key-'));
  });

  afterAll(async () => {
    await testApp?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const env = (key: string, keyId: string) => ({
    DATABASE_URL: testApp.database.url,
    DATA_DIR: dataDir,
    PORT: '0',
    DEMO_SANDBOXES: 'off',
    RUN_WORKERS: 'false',
    LOG_FORMAT: 'json',
    TOKEN_ENCRYPTION_KEY: key,
    TOKEN_ENCRYPTION_KEY_ID: keyId,
  });

  it('stops with a message naming the key id and the fix when the key under that id is another', async () => {
    const { code, output } = await runService(env(randomBytes(32).toString('base64'), 'k1'));
    expect(code).toBe(1);
    expect(output).toContain(
      'The token encryption key configured as key id "k1" does not open the CRM tokens',
    );
    expect(output).toContain('TOKEN_ENCRYPTION_PREVIOUS_KEYS');
    expect(output).not.toMatch(/listening on/);
    expect(output).not.toContain(keyA);
  });

  it('stops likewise when no configured key has the id that sealed them', async () => {
    const { code, output } = await runService(env(randomBytes(32).toString('base64'), 'k2'));
    expect(code).toBe(1);
    expect(output).toContain('The token encryption key for key id "k1" is not configured');
  });
});
