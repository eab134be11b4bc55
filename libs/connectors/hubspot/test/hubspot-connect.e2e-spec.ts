import type { MikroORM } from '@mikro-orm/postgresql';
import { ModulesContainer } from '@nestjs/core';
import request from 'supertest';
import { ConnectionCredential, CrmConnection, SecretBox } from '@pm/domain';
import { CrmError, CrmErrorCode, type CrmSession } from '@pm/integration-port';
import { approveAuthorization, createHubSpotSandbox, type HubSpotSandbox } from '@pm/sandboxes';
import { HubSpotConnector } from '@pm/connectors/hubspot';
import { startTestApp, type TestApp } from '../../../../test/support/test-app';
import { hubSpotConnectorConfig } from './hubspot-test-bed';

/** What this test uses of the app's TokenVault (src/crm-integrations/vault/token-vault.ts). */
interface Vault {
  withSession<T>(connectionId: string, call: (session: CrmSession) => Promise<T>): Promise<T>;
  refresh(connectionId: string, staleAccessToken: string): Promise<{ accessToken: string }>;
}

/**
 * A provider instance of the running app. The layer rules forbid a library (its tests included) to import the
 * app's source, so the test looks the vault and the ORM up in the app's container instead of by class token.
 */
function appInstance<T>(testApp: TestApp, name: string): T {
  for (const module of testApp.app.get(ModulesContainer).values()) {
    for (const wrapper of module.providers.values()) {
      const token = wrapper.token;
      const tokenName =
        typeof token === 'symbol' ? token.description : typeof token === 'function' ? token.name : token;
      if (wrapper.instance && tokenName === name) return wrapper.instance as T;
    }
  }
  throw new Error('provider not found in the app');
}

/**
 * The whole connect flow through the app with the HubSpot connector pointed at the HubSpot sandbox: the sandbox's
 * real consent page, our callback, the encrypted token row, refresh on expiry through the vault, revocation and
 * disconnect. The sandbox expires access tokens and revokes refresh tokens on demand.
 */
describe('HubSpot connect flow through the app', () => {
  let sandbox: HubSpotSandbox;
  let connector: HubSpotConnector;
  let testApp: TestApp;
  let http: ReturnType<typeof request>;
  let orm: MikroORM;
  let connectionId: string;
  let vault: Vault;
  const platform = () => ({ Authorization: `Bearer ${testApp.platformToken}` });
  const tokenCalls = () => sandbox.counters.count('POST /oauth/v1/token');

  const sealedTokens = async () => {
    const credential = await orm.em
      .fork()
      .findOneOrFail(ConnectionCredential, { connection: connectionId }, { populate: ['sealed'] });
    return JSON.parse(testApp.app.get(SecretBox).open(credential, connectionId)) as {
      accessToken: string;
      refreshToken: string;
    };
  };

  async function startConnect(body: Record<string, unknown> = {}): Promise<string> {
    const response = await http
      .post('/api/v1/tenants/acme/connections')
      .set(platform())
      .send({ provider: 'hubspot', ...body })
      .expect(201);
    return (response.body as { authorizeUrl: string }).authorizeUrl;
  }

  /** The user at the sandbox's consent page clicks Allow; the browser follows the redirect to our callback. */
  async function signIn(authorizeUrl: string): Promise<request.Response> {
    const redirect = await approveAuthorization(authorizeUrl);
    expect(redirect.url.pathname).toBe('/oauth/hubspot/callback');
    return http.get(redirect.url.pathname).query({ code: redirect.code, state: redirect.state });
  }

  const connection = async () =>
    (await http.get(`/api/v1/tenants/acme/connections/${connectionId}`).set(platform()).expect(200))
      .body as Record<string, unknown>;

  beforeAll(async () => {
    sandbox = createHubSpotSandbox({ redirectUris: ['http://crm.test/oauth/hubspot/callback'] });
    const baseUrl = await sandbox.start();
    connector = new HubSpotConnector(hubSpotConnectorConfig(baseUrl, sandbox));
    testApp = await startTestApp({ PUBLIC_URL: 'http://crm.test' }, { connectors: { hubspot: connector } });
    http = request(testApp.app.getHttpServer());
    orm = appInstance<MikroORM>(testApp, 'CRM_ORM');
    vault = appInstance<Vault>(testApp, 'TokenVault');
    await http.put('/api/v1/tenants/acme').set(platform()).send({ name: 'Acme' }).expect(200);
  });

  afterAll(async () => {
    await testApp?.close();
    await sandbox?.stop();
  });

  it('sends the user to the sandbox consent page with our callback, the scopes and a state (no PKCE)', async () => {
    const url = new URL(await startConnect());
    expect(url.origin).toBe(sandbox.baseUrl);
    expect(url.pathname).toBe('/oauth/authorize');
    expect(url.searchParams.get('client_id')).toBe(sandbox.oauth.clientId);
    expect(url.searchParams.get('redirect_uri')).toBe('http://crm.test/oauth/hubspot/callback');
    expect(url.searchParams.get('scope')?.split(' ')).toContain('crm.objects.contacts.write');
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.has('code_challenge')).toBe(false);
  });

  it('connects: consent, callback, portal stored, and the database holds no plaintext token', async () => {
    const page = await signIn(await startConnect());
    expect(page.status).toBe(200);
    expect(page.text).toContain('Connected to HubSpot');
    const list = await http.get('/api/v1/tenants/acme/connections').set(platform()).expect(200);
    expect(list.body).toHaveLength(1);
    expect(list.body[0]).toMatchObject({
      provider: 'hubspot',
      status: 'connected',
      crmAccountId: String(sandbox.portalId),
      settings: { objects: ['contacts'] },
    });
    connectionId = list.body[0].id;

    const tokens = await sealedTokens();
    expect(sandbox.oauth.lookupAccessToken(tokens.accessToken)).toMatchObject({
      revoked: false,
      expired: false,
    });
    const rows = JSON.stringify(await orm.em.getConnection().execute('select * from connection_credentials'));
    expect(rows).not.toContain(tokens.accessToken);
    expect(rows).not.toContain(tokens.refreshToken);
    expect(JSON.stringify(list.body)).not.toContain(tokens.accessToken);
  });

  it('refuses a tampered state and a replayed one, storing nothing', async () => {
    const redirect = await approveAuthorization(await startConnect());
    const forged = await http
      .get('/oauth/hubspot/callback')
      .query({ code: redirect.code, state: `${redirect.state}x` });
    expect(forged.status).toBe(400);
    expect(forged.text).toContain(
      'This sign-in link has expired, was already used, or belongs to another CRM.',
    );
    const calls = tokenCalls();
    const ok = await http
      .get('/oauth/hubspot/callback')
      .query({ code: redirect.code, state: redirect.state });
    expect(ok.status).toBe(200);
    const replay = await http
      .get('/oauth/hubspot/callback')
      .query({ code: redirect.code, state: redirect.state });
    expect(replay.status).toBe(400);
    // Only the accepted callback exchanged its code at HubSpot.
    expect(tokenCalls()).toBe(calls + 1);
    expect(await orm.em.fork().count(CrmConnection, {})).toBe(1);
  });

  it('refreshes an expired access token through the vault and carries on, keeping the refresh token', async () => {
    const before = await sealedTokens();
    sandbox.oauth.expireAllAccessTokens();
    const calls = tokenCalls();
    const fields = await vault.withSession(connectionId, (session) =>
      connector.describeObject(session, 'contacts'),
    );
    expect(fields.map((field) => field.name)).toContain('email');
    expect(tokenCalls()).toBe(calls + 1);
    const after = await sealedTokens();
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.refreshToken).toBe(before.refreshToken);
  });

  it('lets one of two concurrent refreshes reach HubSpot', async () => {
    const stale = (await sealedTokens()).accessToken;
    const calls = tokenCalls();
    const [a, b] = await Promise.all([
      vault.refresh(connectionId, stale),
      vault.refresh(connectionId, stale),
    ]);
    expect(a.accessToken).toBe(b.accessToken);
    expect(tokenCalls()).toBe(calls + 1);
  });

  it('moves the connection to needs_reconnect when HubSpot revoked the refresh token, and back on reconnect', async () => {
    sandbox.oauth.revokeAllRefreshTokens();
    const error = await vault
      .refresh(connectionId, (await sealedTokens()).accessToken)
      .catch((e: unknown) => e);
    expect(CrmError.is(error, CrmErrorCode.AUTH_REVOKED)).toBe(true);
    expect(await connection()).toMatchObject({ status: 'needs_reconnect', health: 'paused' });
    expect((await signIn(await startConnect({ connectionId }))).status).toBe(200);
    expect(await connection()).toMatchObject({ status: 'connected', statusReason: null });
  });

  it('disconnects: revokes the refresh token at HubSpot and deletes the secrets', async () => {
    const tokens = await sealedTokens();
    const response = await http
      .delete(`/api/v1/tenants/acme/connections/${connectionId}`)
      .set(platform())
      .expect(200);
    expect(response.body).toEqual({ status: 'disconnected', revokedAtCrm: true });
    expect(sandbox.counters.count('DELETE /oauth/v1/refresh-tokens/:token')).toBe(1);
    expect(sandbox.oauth.lookupRefreshToken(tokens.refreshToken)).toMatchObject({ revoked: true });
    expect(sandbox.oauth.lookupAccessToken(tokens.accessToken)).toMatchObject({ revoked: true });
    await expect(connector.refreshTokens(tokens.refreshToken)).rejects.toMatchObject({
      code: CrmErrorCode.AUTH_REVOKED,
    });
    expect(await orm.em.fork().count(ConnectionCredential, { connection: connectionId })).toBe(0);
    expect((await connection()).status).toBe('disconnected');
  });
});
