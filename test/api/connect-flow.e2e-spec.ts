import { MikroORM } from '@mikro-orm/postgresql';
import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { ConnectionCredential, CrmConnection, ProviderSetting, SecretBox } from '@pm/domain';
import { CrmError, CrmErrorCode, IntegrationPortRegistry } from '@pm/integration-port';
import { InMemoryConnector, InMemoryCrm } from '@pm/integration-port/testing';
import { CRM_ORM } from '../../src/crm-integrations';
import {
  ConnectionCredentialRepository,
  ConnectionRepository,
} from '../../src/crm-integrations/repositories';
import { TokenVault } from '../../src/crm-integrations/vault/token-vault';
import { openSealedTokens } from '../support/connect-flow-kit';
import { OAuthBrowser } from '../support/oauth-browser';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The OAuth connect flow and the token vault, end to end through the HTTP API and the callback route, against the
 * in-memory CRM (each real CRM runs the same flow against its sandbox in its connector's tests).
 */
describe('connect flow and token vault', () => {
  let testApp: TestApp;
  let http: ReturnType<typeof request>;
  let browser: OAuthBrowser;
  let crm: InMemoryCrm;
  let connector: InMemoryConnector;
  let orm: MikroORM;
  const platform = () => ({ Authorization: `Bearer ${testApp.platformToken}` });

  /** Plays the user: opens the authorize URL, clicks Allow, follows the redirect back to our callback. */
  async function signIn(authorizeUrl: string): Promise<request.Response> {
    const { code, state, redirectUri } = crm.approveAuthorization(authorizeUrl);
    const callback = new URL(redirectUri);
    return browser.callback(callback.pathname, { code, state });
  }

  async function startConnect(body: Record<string, unknown> = {}) {
    const response = await http
      .post('/api/v1/tenants/acme/connections')
      .set(platform())
      .send({ provider: 'in-memory', ...body })
      .expect(201);
    const started = response.body as { authorizeUrl: string; expiresAt: string };
    // The API answers a start link on this service; the browser follows it to the CRM's authorize URL.
    return { ...started, authorizeUrl: await browser.open(started.authorizeUrl) };
  }

  const sealedTokens = (connectionId: string) => openSealedTokens(testApp, connectionId);

  beforeAll(async () => {
    crm = new InMemoryCrm();
    connector = new InMemoryConnector(crm);
    testApp = await startTestApp(
      { PUBLIC_URL: 'http://crm.test' },
      { connectors: { 'in-memory': connector } },
    );
    http = request(testApp.app.getHttpServer());
    browser = new OAuthBrowser(http);
    orm = testApp.app.get<MikroORM>(CRM_ORM);
    await http.put('/api/v1/tenants/acme').set(platform()).send({ name: 'Acme' }).expect(200);
  });

  afterAll(() => testApp.close());

  it('returns the CRM sign-in URL with a random state, PKCE and our callback', async () => {
    const first = await startConnect();
    const second = await startConnect();
    const url = new URL(first.authorizeUrl);
    expect(url.searchParams.get('redirect_uri')).toBe('http://crm.test/oauth/in-memory/callback');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new URL(second.authorizeUrl).searchParams.get('state')).not.toBe(url.searchParams.get('state'));
    expect(new Date(first.expiresAt).getTime() - Date.now()).toBeGreaterThan(9 * 60 * 1000);
  });

  it('refuses a CRM that is not installed, naming the field', async () => {
    const response = await http
      .post('/api/v1/tenants/acme/connections')
      .set(platform())
      .send({ provider: 'dynamics' })
      .expect(400);
    expect(response.body.invalidParams).toEqual([
      { name: 'provider', reason: 'must be one of the installed CRMs: in-memory' },
    ]);
  });

  it('refuses a CRM an administrator disabled, and allows it again per tenant', async () => {
    const em = orm.em.fork();
    em.create(ProviderSetting, { provider: 'in-memory', enabled: false });
    await em.flush();
    const refused = await http
      .post('/api/v1/tenants/acme/connections')
      .set(platform())
      .send({ provider: 'in-memory' })
      .expect(403);
    expect(refused.body.detail).toBe('In-memory CRM is disabled for this workspace by an administrator');
    em.create(ProviderSetting, { provider: 'in-memory', tenant: 'acme', enabled: true });
    await em.flush();
    await startConnect();
    await em.nativeDelete(ProviderSetting, {});
  });

  let connectionId: string;

  it('completes the sign-in: the connection is connected and the database holds no plaintext token', async () => {
    const { authorizeUrl } = await startConnect();
    const page = await signIn(authorizeUrl);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Connected to In-memory CRM (In-memory CRM account)');

    const list = await http.get('/api/v1/tenants/acme/connections').set(platform()).expect(200);
    expect(list.body).toHaveLength(1);
    expect(list.body[0]).toMatchObject({
      provider: 'in-memory',
      status: 'connected',
      crmAccountId: 'in-memory-account-1',
      settings: { objects: ['contacts'] },
    });
    connectionId = list.body[0].id;

    const tokens = await sealedTokens(connectionId);
    expect(tokens.accessToken).toMatch(/^imat-/);
    const rows = await orm.em.getConnection().execute('select * from connection_credentials');
    expect(JSON.stringify(rows)).not.toContain(tokens.accessToken);
    expect(JSON.stringify(rows)).not.toContain(tokens.refreshToken);
  });

  it('refuses a replayed, tampered or expired state with a clear page, storing nothing', async () => {
    const { authorizeUrl } = await startConnect();
    const { code, state } = crm.approveAuthorization(authorizeUrl);
    const ok = await browser.callback('/oauth/in-memory/callback', { code, state });
    expect(ok.status).toBe(200);
    const replay = await browser.callback('/oauth/in-memory/callback', { code, state });
    expect(replay.status).toBe(400);
    expect(replay.text).toContain(
      'This sign-in link has expired, was already used, belongs to another CRM, or was started in another browser.',
    );

    const tampered = crm.approveAuthorization((await startConnect()).authorizeUrl);
    const forged = await browser.callback('/oauth/in-memory/callback', {
      code: tampered.code,
      state: `${tampered.state}x`,
    });
    expect(forged.status).toBe(400);

    const expiring = crm.approveAuthorization((await startConnect()).authorizeUrl);
    await orm.em
      .getConnection()
      .execute(`update oauth_states set expires_at = now() - interval '1 second' where used_at is null`);
    const late = await browser.callback('/oauth/in-memory/callback', {
      code: expiring.code,
      state: expiring.state,
    });
    expect(late.status).toBe(400);

    const denied = await browser.callback('/oauth/in-memory/callback', {
      error: 'access_denied',
      error_description: 'The user said no',
    });
    expect(denied.status).toBe(400);
    expect(denied.text).toContain('The user said no');
    expect(await orm.em.fork().count(CrmConnection, {})).toBe(1);
  });

  it('reconnects to the same account keeping settings, and refuses a different account unless starting over', async () => {
    await http
      .patch(`/api/v1/tenants/acme/connections/${connectionId}/settings`)
      .set(platform())
      .send({ conflictPolicy: 'most_recent' })
      .expect(200);
    await signIn((await startConnect({ connectionId })).authorizeUrl);
    const same = await http
      .get(`/api/v1/tenants/acme/connections/${connectionId}`)
      .set(platform())
      .expect(200);
    expect(same.body.settings.conflictPolicy).toBe('most_recent');

    Object.defineProperty(crm, 'accountId', { value: 'in-memory-account-2' });
    try {
      const refused = await signIn((await startConnect({ connectionId })).authorizeUrl);
      expect(refused.status).toBe(409);
      expect(refused.text).toContain('different In-memory CRM account');
      const unchanged = await http
        .get(`/api/v1/tenants/acme/connections/${connectionId}`)
        .set(platform())
        .expect(200);
      expect(unchanged.body.crmAccountId).toBe('in-memory-account-1');

      const replaced = await signIn((await startConnect({ connectionId, startOver: true })).authorizeUrl);
      expect(replaced.status).toBe(200);
      const now = await http
        .get(`/api/v1/tenants/acme/connections/${connectionId}`)
        .set(platform())
        .expect(200);
      expect(now.body.crmAccountId).toBe('in-memory-account-2');
    } finally {
      Object.defineProperty(crm, 'accountId', { value: 'in-memory-account-1' });
    }
    // Back to the first account for the tests below.
    expect((await signIn((await startConnect({ connectionId, startOver: true })).authorizeUrl)).status).toBe(
      200,
    );
  });

  it('refreshes an expired access token once and carries on', async () => {
    const vault = testApp.app.get(TokenVault);
    const before = await sealedTokens(connectionId);
    crm.expireAccessToken(before.accessToken);
    const fields = await vault.withSession(connectionId, (session) =>
      connector.describeObject(session, 'contacts'),
    );
    expect(fields.map((f) => f.name)).toContain('email');
    const after = await sealedTokens(connectionId);
    expect(after.accessToken).not.toBe(before.accessToken);
  });

  it('lets only one of two concurrent refreshes reach the CRM', async () => {
    const vault = testApp.app.get(TokenVault);
    const stale = (await sealedTokens(connectionId)).accessToken;
    const refresh = jest.spyOn(connector, 'refreshTokens');
    try {
      const [a, b] = await Promise.all([
        vault.refresh(connectionId, stale),
        vault.refresh(connectionId, stale),
      ]);
      expect(refresh).toHaveBeenCalledTimes(1);
      expect(a.accessToken).toBe(b.accessToken);
      expect(a.accessToken).not.toBe(stale);
    } finally {
      refresh.mockRestore();
    }
  });

  it('moves the connection to needs_reconnect when the refresh token is revoked', async () => {
    const vault = testApp.app.get(TokenVault);
    const tokens = await sealedTokens(connectionId);
    crm.revoke(tokens.refreshToken);
    const error = await vault.refresh(connectionId, tokens.accessToken).catch((e: unknown) => e);
    expect(CrmError.is(error, CrmErrorCode.AUTH_REVOKED)).toBe(true);
    const shown = await http
      .get(`/api/v1/tenants/acme/connections/${connectionId}`)
      .set(platform())
      .expect(200);
    expect(shown.body).toMatchObject({ status: 'needs_reconnect', health: 'paused' });
    expect(shown.body.statusReason).toContain('refresh token is invalid, expired or revoked');
    // Reconnecting brings it back.
    expect((await signIn((await startConnect({ connectionId })).authorizeUrl)).status).toBe(200);
    const back = await http
      .get(`/api/v1/tenants/acme/connections/${connectionId}`)
      .set(platform())
      .expect(200);
    expect(back.body).toMatchObject({ status: 'connected', health: 'healthy', statusReason: null });
  });

  it('re-seals every stored token with a new key (keys:rotate), the old key kept only for reading', async () => {
    const oldKey = testApp.runtime.encryption.current;
    const newKey = { id: 'rotated-key', key: randomBytes(32) };
    const rotating = new TokenVault(
      testApp.app.get(ConnectionCredentialRepository),
      testApp.app.get(ConnectionRepository),
      new SecretBox(newKey, [oldKey]),
      testApp.app.get(IntegrationPortRegistry),
    );
    const before = await sealedTokens(connectionId);
    expect(await rotating.rotateAll()).toBeGreaterThanOrEqual(1);
    expect(await rotating.rotateAll()).toBe(0);
    const [row] = await orm.em
      .getConnection()
      .execute<
        { key_id: string; sealed: string }[]
      >('select key_id, sealed from connection_credentials where connection_id = ?', [connectionId]);
    expect(row.key_id).toBe('rotated-key');
    expect(
      JSON.parse(new SecretBox(newKey).open({ keyId: row.key_id, sealed: row.sealed }, connectionId)),
    ).toMatchObject(before);
    expect(() =>
      new SecretBox(oldKey).open({ keyId: row.key_id, sealed: row.sealed }, connectionId),
    ).toThrow();
    // Put the app's own key back for the tests below.
    await new TokenVault(
      testApp.app.get(ConnectionCredentialRepository),
      testApp.app.get(ConnectionRepository),
      new SecretBox(oldKey, [newKey]),
      testApp.app.get(IntegrationPortRegistry),
    ).rotateAll();
  });

  it('disconnects: revokes at the CRM and deletes the secrets', async () => {
    const tokens = await sealedTokens(connectionId);
    const response = await http
      .delete(`/api/v1/tenants/acme/connections/${connectionId}`)
      .set(platform())
      .expect(200);
    expect(response.body).toEqual({ status: 'disconnected', revokedAtCrm: true });
    expect(() => crm.refresh(tokens.refreshToken)).toThrow(/invalid/);
    expect(await orm.em.fork().count(ConnectionCredential, { connection: connectionId })).toBe(0);
    const shown = await http
      .get(`/api/v1/tenants/acme/connections/${connectionId}`)
      .set(platform())
      .expect(200);
    expect(shown.body.status).toBe('disconnected');
  });
});
