import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { CrmError, CrmErrorCode, type CrmSession, type TokenSet } from '@pm/integration-port';
import { approveAuthorization, type SalesforceSandbox } from '@pm/sandboxes';
import { startTestApp, type TestApp } from '../../../../test/support/test-app';
import type { SalesforceConnector } from '../src';
import { connectorFor, startSalesforceSandbox } from './salesforce-fixture';

const TOKEN = 'POST /services/oauth2/token';
const REVOKE = 'POST /services/oauth2/revoke';

/** The vault's methods this test drives (the vault lives in the app; libraries may not import it). */
interface TokenVaultLike {
  withSession<T>(connectionId: string, call: (session: CrmSession) => Promise<T>): Promise<T>;
  refresh(connectionId: string, staleAccessToken?: string): Promise<CrmSession>;
}

/** A provider instance by class name from the app's DI container. */
function providerNamed<T>(app: INestApplication, name: string): T {
  const container = (
    app as unknown as {
      container: {
        getModules(): Map<string, { providers: Map<unknown, { name?: unknown; instance?: unknown }> }>;
      };
    }
  ).container;
  for (const module of container.getModules().values()) {
    for (const wrapper of module.providers.values()) {
      if (wrapper.name === name && wrapper.instance) return wrapper.instance as T;
    }
  }
  throw new Error(`No provider named ${name} in the app`);
}

/**
 * The whole Connect flow through the app with the Salesforce connector pointed at the Salesforce sandbox: our API
 * hands out the sandbox's real authorize URL, the user presses Allow on its consent page, our callback exchanges the
 * code (with the PKCE verifier) and the vault seals the tokens; then refresh, revocation and disconnect through the
 * token vault, observed at the sandbox.
 */
describe('Salesforce connect flow through the app', () => {
  let sandbox: SalesforceSandbox;
  let connector: SalesforceConnector;
  let testApp: TestApp;
  let http: ReturnType<typeof request>;
  let vault: TokenVaultLike;
  let database: Client;
  let connectionId: string;
  const issued: TokenSet[] = [];
  const platform = () => ({ Authorization: `Bearer ${testApp.platformToken}` });

  async function startConnect(body: Record<string, unknown> = {}): Promise<string> {
    const response = await http
      .post('/api/v1/tenants/acme/connections')
      .set(platform())
      .send({ provider: 'salesforce', ...body })
      .expect(201);
    return (response.body as { authorizeUrl: string }).authorizeUrl;
  }

  /** The browser: the sandbox's consent page, Allow, then the redirect to our callback. */
  async function signIn(authorizeUrl: string): Promise<request.Response> {
    const redirect = await approveAuthorization(authorizeUrl);
    expect(redirect.url.pathname).toBe('/oauth/salesforce/callback');
    return http.get(redirect.url.pathname).query({ code: redirect.code, state: redirect.state });
  }

  const connection = async () =>
    (await http.get(`/api/v1/tenants/acme/connections/${connectionId}`).set(platform()).expect(200)).body as {
      status: string;
      statusReason: string | null;
      crmAccountId: string;
      instanceUrl: string | null;
    };

  const credentialRows = async (): Promise<string> =>
    JSON.stringify((await database.query('select * from connection_credentials')).rows);

  beforeAll(async () => {
    sandbox = await startSalesforceSandbox();
    connector = connectorFor(sandbox);
    const exchange = connector.exchangeCode.bind(connector);
    const refresh = connector.refreshTokens.bind(connector);
    // Keeps what Salesforce issued, to look for it in the database and at the sandbox.
    jest.spyOn(connector, 'exchangeCode').mockImplementation(async (...args) => {
      const tokens = await exchange(...args);
      issued.push(tokens);
      return tokens;
    });
    jest.spyOn(connector, 'refreshTokens').mockImplementation(async (...args) => {
      const tokens = await refresh(...args);
      issued.push(tokens);
      return tokens;
    });
    testApp = await startTestApp(
      { PUBLIC_URL: 'http://crm.test' },
      { connectors: { salesforce: connector } },
    );
    http = request(testApp.app.getHttpServer());
    vault = providerNamed<TokenVaultLike>(testApp.app, 'TokenVault');
    database = new Client({ connectionString: testApp.database.url });
    await database.connect();
    await http.put('/api/v1/tenants/acme').set(platform()).send({ name: 'Acme' }).expect(200);
  });

  afterAll(async () => {
    await database?.end();
    await testApp?.close();
    await sandbox?.stop();
  });

  it('connects through the sandbox consent page with PKCE and seals the tokens (no plaintext in the database)', async () => {
    const authorizeUrl = new URL(await startConnect());
    expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(`${sandbox.loginUrl}/services/oauth2/authorize`);
    expect(authorizeUrl.searchParams.get('redirect_uri')).toBe('http://crm.test/oauth/salesforce/callback');
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizeUrl.searchParams.get('scope')).toBe('api refresh_token');

    const page = await signIn(authorizeUrl.toString());
    expect(page.status).toBe(200);
    expect(page.text).toContain('Connected to Salesforce');
    expect(sandbox.counters.count(TOKEN)).toBe(1);

    const list = await http.get('/api/v1/tenants/acme/connections').set(platform()).expect(200);
    expect(list.body).toEqual([
      expect.objectContaining({
        provider: 'salesforce',
        status: 'connected',
        crmAccountId: sandbox.org.orgId,
        instanceUrl: sandbox.baseUrl,
      }),
    ]);
    connectionId = list.body[0].id;

    const [tokens] = issued;
    expect(sandbox.oauth.lookupAccessToken(tokens.accessToken)).toMatchObject({ revoked: false });
    expect(sandbox.oauth.lookupRefreshToken(tokens.refreshToken as string)).toMatchObject({ revoked: false });
    const rows = await credentialRows();
    expect(rows).toContain(connectionId);
    expect(rows).not.toContain(tokens.accessToken);
    expect(rows).not.toContain(tokens.refreshToken);
  });

  it('refuses a tampered state without calling Salesforce or storing anything', async () => {
    const redirect = await approveAuthorization(await startConnect());
    const tokenCalls = sandbox.counters.count(TOKEN);
    const forged = await http
      .get(redirect.url.pathname)
      .query({ code: redirect.code, state: `${redirect.state}x` });
    expect(forged.status).toBe(400);
    expect(sandbox.counters.count(TOKEN)).toBe(tokenCalls);
    const list = await http.get('/api/v1/tenants/acme/connections').set(platform()).expect(200);
    expect(list.body).toHaveLength(1);
  });

  it('refreshes an expired session once through TokenVault.withSession and carries on', async () => {
    sandbox.seedContacts(3);
    sandbox.oauth.expireAllAccessTokens();
    const tokenCalls = sandbox.counters.count(TOKEN);

    const page = await vault.withSession(connectionId, (session) =>
      connector.readChanges(session, { object: 'Contact', since: null }),
    );
    expect(page.records).toHaveLength(3);
    expect(sandbox.counters.count(TOKEN)).toBe(tokenCalls + 1);
    const refreshed = issued.at(-1) as TokenSet;
    expect(refreshed.accessToken).not.toBe(issued[0].accessToken);
    // No rotation: Salesforce sends no new refresh token and the vault keeps the one it has.
    expect(refreshed.refreshToken).toBeUndefined();
    expect(await credentialRows()).not.toContain(refreshed.accessToken);
    const session = await vault.withSession(connectionId, async (current) => current);
    expect(session.accessToken).toBe(refreshed.accessToken);
  });

  it('moves the connection to needs_reconnect when Salesforce revoked the refresh token, and back on reconnect', async () => {
    const stale = (issued.at(-1) as TokenSet).accessToken;
    sandbox.oauth.revokeAllRefreshTokens();
    const error = await vault.refresh(connectionId, stale).catch((e: unknown) => e);
    expect(CrmError.is(error, CrmErrorCode.AUTH_REVOKED)).toBe(true);
    expect(await connection()).toMatchObject({ status: 'needs_reconnect' });
    expect((await connection()).statusReason).toContain('expired access/refresh token');

    expect((await signIn(await startConnect({ connectionId }))).status).toBe(200);
    expect(await connection()).toMatchObject({
      status: 'connected',
      crmAccountId: sandbox.org.orgId,
      statusReason: null,
    });
  });

  it('disconnects: revokes the refresh token at Salesforce and deletes the secrets', async () => {
    const latest = [...issued].reverse().find((tokens) => tokens.refreshToken !== undefined) as TokenSet;
    const response = await http
      .delete(`/api/v1/tenants/acme/connections/${connectionId}`)
      .set(platform())
      .expect(200);
    expect(response.body).toEqual({ status: 'disconnected', revokedAtCrm: true });
    expect(sandbox.counters.count(REVOKE)).toBe(1);
    expect(sandbox.oauth.lookupRefreshToken(latest.refreshToken as string)).toMatchObject({ revoked: true });
    // Revoking the refresh token ends its sessions too.
    expect(sandbox.oauth.lookupAccessToken(latest.accessToken)).toMatchObject({ revoked: true });
    expect(await credentialRows()).toBe('[]');
    expect((await connection()).status).toBe('disconnected');
  });
});
