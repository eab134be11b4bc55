import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { MikroORM } from '@mikro-orm/postgresql';
import { createOrmConfig, CrmConnection, SecretBox, Tenant } from '@pm/domain';
import { PipedriveConnector } from '@pm/connectors/pipedrive';
import { SalesforceConnector } from '@pm/connectors/salesforce';
import { CrmErrorCode, IntegrationPortRegistry } from '@pm/integration-port';
import { TokenVault } from '../../src/crm-integrations/vault/token-vault';
import {
  ConnectionCredentialRepository,
  ConnectionRepository,
} from '../../src/crm-integrations/repositories';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/** A local HTTP listener that answers with `answer` and remembers every request it got. */
async function listener(answer: (req: IncomingMessage) => unknown) {
  const seen: { method: string; url: string; authorization?: string }[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer(req) ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * Issue 14, hole 2: a token endpoint's `instance_url` / `api_domain` decides where every later call carries the
 * token, so it is checked against the CRM's allowed hosts at connect and at refresh, and a refresh never moves an
 * account to another host.
 */
describe('where a CRM token may be sent', () => {
  let decoy: Awaited<ReturnType<typeof listener>>;
  let tokenEndpoint: Awaited<ReturnType<typeof listener>>;
  let namedHost: () => string;

  beforeAll(async () => {
    decoy = await listener(() => ({ data: { id: 1, company_id: 1 } }));
    tokenEndpoint = await listener(() => ({
      access_token: '11:22:fresh-access-token',
      refresh_token: '11:22:fresh-refresh-token',
      expires_in: 3600,
      instance_url: namedHost(),
      api_domain: namedHost(),
      id: 'https://login.example/id/00D000000000001AAA/005000000000001AAA',
      issued_at: String(Date.now()),
    }));
    namedHost = () => decoy.origin;
  });

  afterAll(async () => {
    await decoy?.close();
    await tokenEndpoint?.close();
  });

  const salesforce = (allowedApiHosts?: string[]) =>
    new SalesforceConnector({
      clientId: 'client',
      clientSecret: 'secret',
      loginUrl: tokenEndpoint.origin,
      timeoutMs: 5_000,
      allowedApiHosts,
    });
  const pipedrive = () =>
    new PipedriveConnector({
      clientId: 'client',
      clientSecret: 'secret',
      oauthBaseUrl: tokenEndpoint.origin,
      apiBaseUrl: tokenEndpoint.origin,
      requestTimeoutMs: 5_000,
    });

  it('refuses a Salesforce instance_url outside the allowed hosts, at connect and at refresh', async () => {
    const connector = salesforce();
    const request = { code: 'code', redirectUri: 'http://localhost/cb' };
    await expect(connector.exchangeCode(request)).rejects.toMatchObject({
      code: CrmErrorCode.AUTH_REVOKED,
      message: expect.stringContaining(new URL(decoy.origin).host),
    });
    await expect(connector.refreshTokens('refresh')).rejects.toMatchObject({
      code: CrmErrorCode.AUTH_REVOKED,
    });
    expect(decoy.seen).toEqual([]);
  });

  it('refuses a Pipedrive api_domain outside the allowed hosts before calling it with the new token', async () => {
    const connector = pipedrive();
    await expect(
      connector.exchangeCode({ code: 'code', redirectUri: 'http://localhost/cb' }),
    ).rejects.toMatchObject({ code: CrmErrorCode.AUTH_REVOKED });
    await expect(connector.refreshTokens('refresh')).rejects.toMatchObject({
      code: CrmErrorCode.AUTH_REVOKED,
    });
    expect(decoy.seen).toEqual([]);
  });

  it("allows the CRM's own domains and the configured base, over https for the real ones", async () => {
    namedHost = () => tokenEndpoint.origin;
    try {
      await expect(
        salesforce().exchangeCode({ code: 'c', redirectUri: 'http://x/cb' }),
      ).resolves.toMatchObject({
        instanceUrl: tokenEndpoint.origin,
      });
    } finally {
      namedHost = () => decoy.origin;
    }
    const { isAllowedApiHost } = await import('@pm/connector-kit');
    const real = ['*.salesforce.com', '*.force.com'];
    expect(isAllowedApiHost('https://acme.my.salesforce.com', real)).toBe(true);
    expect(isAllowedApiHost('http://acme.my.salesforce.com', real)).toBe(false);
    expect(isAllowedApiHost('https://acme.my.salesforce.com:8443', real)).toBe(false);
    expect(isAllowedApiHost('https://salesforce.com.evil.example', real)).toBe(false);
    expect(isAllowedApiHost('https://evilsalesforce.com', real)).toBe(false);
    expect(isAllowedApiHost('https://user@acme.my.salesforce.com', real)).toBe(false);
  });

  describe('the token vault', () => {
    let database: TestDatabase;
    let orm: MikroORM;

    beforeAll(async () => {
      database = await createTestDatabase();
      orm = await MikroORM.init(createOrmConfig({ clientUrl: database.url }));
      await orm.getMigrator().up();
    });

    afterAll(async () => {
      await orm?.close(true);
      await database?.drop();
    });

    it('refuses a refresh that moves the account to another (even allowed) host', async () => {
      // Both listeners allowed, so only the vault's own rule can refuse the move.
      const connector = salesforce([tokenEndpoint.origin, decoy.origin]);
      const vault = new TokenVault(
        new ConnectionCredentialRepository(orm),
        new ConnectionRepository(orm),
        new SecretBox({ id: 'k', key: randomBytes(32) }),
        new IntegrationPortRegistry({ salesforce: connector }),
      );
      const em = orm.em.fork();
      const tenant = em.create(Tenant, { id: 'acme', name: 'Acme' });
      const connection = em.create(CrmConnection, {
        tenant,
        provider: 'salesforce',
        status: 'connected',
        crmAccountId: '00D000000000001',
        instanceUrl: tokenEndpoint.origin,
      });
      await em.flush();
      await vault.save(connection.id, {
        accessToken: 'old-access',
        refreshToken: 'old-refresh',
        account: { id: '00D000000000001' },
      });

      await expect(vault.refresh(connection.id)).rejects.toMatchObject({ code: CrmErrorCode.AUTH_REVOKED });
      const stored = await orm.em.fork().findOneOrFail(CrmConnection, connection.id);
      expect(stored).toMatchObject({ instanceUrl: tokenEndpoint.origin, status: 'needs_reconnect' });
      expect(stored.statusReason).toContain(new URL(decoy.origin).host);
      expect(decoy.seen).toEqual([]);
    });
  });
});
