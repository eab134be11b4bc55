import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { CrmError, CrmErrorCode, type CrmSession, type TokenSet } from '@pm/integration-port';
import { approveAuthorization, createPipedriveSandbox, type PipedriveSandbox } from '@pm/sandboxes';
import { startTestApp, type TestApp } from '../../../../test/support/test-app';
import { PipedriveConnector } from '../src';

/**
 * The whole OAuth dance through the app with the Pipedrive connector pointed at the sandbox: our API returns the
 * sandbox's real authorize page, the user clicks Allow, the sandbox redirects to our callback, the connector
 * exchanges the code (HTTP Basic client auth, api_domain) and the vault seals the tokens. Then the vault's refresh,
 * revocation and disconnect, observed at the sandbox.
 */

/** The vault's methods this test drives (the vault lives in the app; libraries may not import it). */
interface TokenVaultLike {
  withSession<T>(connectionId: string, call: (session: CrmSession) => Promise<T>): Promise<T>;
  session(connectionId: string): Promise<CrmSession>;
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

describe('Pipedrive connect flow through the app, against the Pipedrive sandbox', () => {
  let sandbox: PipedriveSandbox;
  let connector: PipedriveConnector;
  let testApp: TestApp;
  let http: ReturnType<typeof request>;
  let vault: TokenVaultLike;
  let database: Client;
  const issued: TokenSet[] = [];
  const platform = () => ({ Authorization: `Bearer ${testApp.platformToken}` });

  async function startConnect(body: Record<string, unknown> = {}): Promise<string> {
    const response = await http
      .post('/api/v1/tenants/acme/connections')
      .set(platform())
      .send({ provider: 'pipedrive', ...body })
      .expect(201);
    return (response.body as { authorizeUrl: string }).authorizeUrl;
  }

  /** Plays the user on the sandbox's consent page, then follows its redirect to our callback. */
  async function signIn(authorizeUrl: string): Promise<request.Response> {
    const redirect = await approveAuthorization(authorizeUrl);
    expect(redirect.url.pathname).toBe('/oauth/pipedrive/callback');
    return http.get(redirect.url.pathname).query({ code: redirect.code, state: redirect.state });
  }

  async function connection(id: string): Promise<Record<string, unknown>> {
    return (await http.get(`/api/v1/tenants/acme/connections/${id}`).set(platform()).expect(200))
      .body as Record<string, unknown>;
  }

  beforeAll(async () => {
    sandbox = createPipedriveSandbox({ seed: 3 });
    const base = await sandbox.start();
    connector = new PipedriveConnector({
      clientId: sandbox.oauth.clientId,
      clientSecret: sandbox.oauth.clientSecret,
      oauthBaseUrl: base,
      apiBaseUrl: base,
      requestTimeoutMs: 10_000,
    });
    const exchange = connector.exchangeCode.bind(connector);
    const refresh = connector.refreshTokens.bind(connector);
    // Keeps what the CRM issued, to look for it in the database and at the sandbox.
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
    testApp = await startTestApp({ PUBLIC_URL: 'http://crm.test' }, { connectors: { pipedrive: connector } });
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

  let connectionId: string;

  it('connects through the sandbox’s authorize page; the database holds no plaintext token', async () => {
    const authorizeUrl = new URL(await startConnect());
    expect(`${authorizeUrl.origin}${authorizeUrl.pathname}`).toBe(`${sandbox.baseUrl}/oauth/authorize`);
    expect(authorizeUrl.searchParams.get('redirect_uri')).toBe('http://crm.test/oauth/pipedrive/callback');
    const page = await signIn(authorizeUrl.toString());
    expect(page.status).toBe(200);
    expect(page.text).toContain('Connected to Pipedrive (Sandbox Company)');
    expect(sandbox.counters.count('POST /oauth/token')).toBe(1);
    expect(sandbox.counters.count('GET /api/v1/users/me')).toBe(1);

    const list = await http.get('/api/v1/tenants/acme/connections').set(platform()).expect(200);
    expect(list.body).toHaveLength(1);
    expect(list.body[0]).toMatchObject({
      provider: 'pipedrive',
      status: 'connected',
      crmAccountId: String(sandbox.companyId),
      instanceUrl: sandbox.baseUrl,
    });
    connectionId = list.body[0].id;

    const [tokens] = issued;
    const rows = JSON.stringify((await database.query('select * from connection_credentials')).rows);
    expect(rows).not.toContain(tokens.accessToken);
    expect(rows).not.toContain(tokens.refreshToken);
    expect(rows).not.toContain(tokens.accessToken.split(':')[2]);
  });

  it('refuses a tampered state with a clear page and stores nothing', async () => {
    const redirect = await approveAuthorization(await startConnect());
    const forged = await http
      .get('/oauth/pipedrive/callback')
      .query({ code: redirect.code, state: `${redirect.state}x` });
    expect(forged.status).toBe(400);
    expect(forged.text).toContain(
      'This sign-in link has expired, was already used, or belongs to another CRM.',
    );
    expect((await database.query('select count(*)::int as n from crm_connections')).rows[0].n).toBe(1);
  });

  it('refreshes an access token the sandbox expired, once, and carries on', async () => {
    sandbox.counters.reset();
    sandbox.oauth.expireAllAccessTokens();
    const fields = await vault.withSession(connectionId, (session) =>
      connector.describeObject(session, 'persons'),
    );
    expect(fields.map((field) => field.name)).toContain('email');
    expect(sandbox.counters.count('POST /oauth/token')).toBe(1);
    // The first describe got 401 (AUTH_EXPIRED), the vault refreshed, the second succeeded.
    expect(sandbox.counters.count('GET /api/v1/personFields')).toBe(2);
    const session = await vault.session(connectionId);
    expect(session.instanceUrl).toBe(sandbox.baseUrl);
    expect(sandbox.oauth.authenticate(session.accessToken)).toMatchObject({
      accessToken: session.accessToken,
    });
  });

  it('lets only one of two concurrent refreshes reach Pipedrive', async () => {
    const stale = (await vault.session(connectionId)).accessToken;
    sandbox.counters.reset();
    const [a, b] = await Promise.all([
      vault.refresh(connectionId, stale),
      vault.refresh(connectionId, stale),
    ]);
    expect(sandbox.counters.count('POST /oauth/token')).toBe(1);
    expect(a.accessToken).toBe(b.accessToken);
    expect(a.accessToken).not.toBe(stale);
  });

  it('moves the connection to needs_reconnect when Pipedrive answers invalid_grant, and back on reconnect', async () => {
    sandbox.oauth.revokeAllRefreshTokens();
    sandbox.oauth.expireAllAccessTokens();
    const error = await vault
      .withSession(connectionId, (session) => connector.describeObject(session, 'persons'))
      .catch((e: unknown) => e);
    expect(CrmError.is(error, CrmErrorCode.AUTH_REVOKED)).toBe(true);
    const shown = await connection(connectionId);
    expect(shown).toMatchObject({ status: 'needs_reconnect', health: 'paused' });
    expect(shown.statusReason).toContain('invalid_grant');

    expect((await signIn(await startConnect({ connectionId }))).status).toBe(200);
    expect(await connection(connectionId)).toMatchObject({ status: 'connected', statusReason: null });
  });

  it('disconnects: revokes the refresh token at Pipedrive (its access tokens too) and deletes the secrets', async () => {
    const latest = issued[issued.length - 1];
    expect(sandbox.oauth.authenticate(latest.accessToken)).toMatchObject({ accessToken: latest.accessToken });
    sandbox.counters.reset();
    const response = await http
      .delete(`/api/v1/tenants/acme/connections/${connectionId}`)
      .set(platform())
      .expect(200);
    expect(response.body).toEqual({ status: 'disconnected', revokedAtCrm: true });
    expect(sandbox.counters.count('POST /oauth/revoke')).toBe(1);
    expect(sandbox.oauth.lookupRefreshToken(latest.refreshToken as string)?.revoked).toBe(true);
    expect(sandbox.oauth.authenticate(latest.accessToken)).toBe('invalid');
    expect((await database.query('select count(*)::int as n from connection_credentials')).rows[0].n).toBe(0);
    expect((await connection(connectionId)).status).toBe('disconnected');
  });
});
