import type { MikroORM } from '@mikro-orm/postgresql';
import request from 'supertest';
import { ConnectionCredential, SecretBox } from '@pm/domain';
import {
  CrmError,
  CrmErrorCode,
  type CrmSession,
  type IntegrationPort,
  type TokenSet,
} from '@pm/integration-port';
import { approveAuthorization, type SandboxServer } from '@pm/sandboxes';
import { CRM_ORM } from '../../src/crm-integrations';
import { TokenVault } from '../../src/crm-integrations/vault/token-vault';
import { startTestApp, type TestApp } from './test-app';
import { OAuthBrowser } from './oauth-browser';

/** The public URL the app runs under in these tests; the CRM redirects the browser to its callback there. */
export const CONNECT_FLOW_PUBLIC_URL = 'http://crm.test';

/**
 * What one CRM brings to the shared connect-flow suite: its connector pointed at its running sandbox, and the facts
 * the suite checks that differ per CRM. Expiring and revoking tokens go through `sandbox.oauth`, the OAuth server
 * every sandbox is built on.
 */
export interface SandboxConnectFixture {
  /** The provider id the app registers the connector under: a connection's `provider`, the callback path. */
  provider: string;
  /** The CRM's name on the page our callback shows: `Connected to <displayName> (<accountName>)`. */
  displayName: string;
  /** The CRM account's name the callback page shows after the display name; null where the CRM gives none. */
  accountName: string | null;
  /** The started sandbox; the suite stops it when done. */
  sandbox: SandboxServer;
  /** The connector pointed at the sandbox, as the app will run it. */
  connector: IntegrationPort;
  authorize: {
    /** Origin and path of the sandbox's consent page the app must send the user to. */
    endpoint: string;
    /** Whether the authorize URL carries an S256 PKCE challenge. */
    pkce: boolean;
    /** What the `scope` parameter must equal: a string, null for none, or an asymmetric matcher. */
    scope: unknown;
  };
  /** The sandbox's request-counter keys (`METHOD /route`) of its token and revoke endpoints. */
  routes: { token: string; revoke: string };
  /** Every request the connector makes to the sandbox to connect (code exchange, account lookup), each made once. */
  connectCalls: string[];
  /** What the connection shows in our API once connected, besides provider and status (account id, instance…). */
  connectedAs: Record<string, unknown>;
  /** Whether the CRM's refresh answer repeats the refresh token (false: it sends none and the vault keeps its own). */
  refreshAnswersRefreshToken: boolean;
  /** What the connection's status reason quotes from the CRM when its refresh token was revoked. */
  revokedReason: string;
  /** A CRM call that needs a live access token: it makes exactly one request to `route` and checks the answer. */
  apiCall: { route: string; run(session: CrmSession): Promise<void> };
  /** Parts of a token that must not appear in the database either (the secret part of a structured token). */
  secretPartsOf?(tokens: TokenSet): string[];
}

/** An `apiCall` that reads an object's fields (one request to `route`) and expects an `email` field among them. */
export function describeObjectCall(
  connector: IntegrationPort,
  object: string,
  route: string,
): SandboxConnectFixture['apiCall'] {
  return {
    route,
    run: async (session) => {
      const fields = await connector.describeObject(session, object);
      expect(fields.map((field) => field.name)).toContain('email');
    },
  };
}

/** What the token vault holds for a connection, unsealed (the test's view of the credential row). */
export async function openSealedTokens(
  testApp: TestApp,
  connectionId: string,
): Promise<{ accessToken: string; refreshToken: string }> {
  const credential = await testApp.app
    .get<MikroORM>(CRM_ORM)
    .em.fork()
    .findOneOrFail(ConnectionCredential, { connection: connectionId }, { populate: ['sealed'] });
  return JSON.parse(testApp.app.get(SecretBox).open(credential, connectionId)) as {
    accessToken: string;
    refreshToken: string;
  };
}

interface ConnectionView {
  id: string;
  status: string;
  health: string;
  statusReason: string | null;
  instanceUrl: string | null;
}

const REFUSED_STATE_PAGE =
  'This sign-in link has expired, was already used, belongs to another CRM, or was started in another browser.';

/**
 * The whole connect flow through the app with one CRM's connector pointed at that CRM's sandbox: our API hands out
 * the sandbox's real authorize URL, the user presses Allow on its consent page, our callback exchanges the code and
 * the vault seals the tokens; then a tampered state, refresh on expiry, a refresh race, a revoked refresh token and
 * disconnect, each observed at the sandbox. The cases run in order on one connection. The in-memory version of the
 * same flow, with the cases no sandbox is needed for, is test/api/connect-flow.e2e-spec.ts.
 */
export function describeConnectFlowAgainstSandbox(
  name: string,
  fixtureFactory: () => Promise<SandboxConnectFixture>,
): void {
  describe(`${name} connect flow through the app, against its sandbox`, () => {
    let fixture: SandboxConnectFixture;
    let sandbox: SandboxServer;
    let testApp: TestApp;
    let http: ReturnType<typeof request>;
    let browser: OAuthBrowser;
    let vault: TokenVault;
    let orm: MikroORM;
    let connectionId: string;
    let listed: ConnectionView;
    /** Every token set the connector got from the CRM, in order, to look for in the database and at the sandbox. */
    const issued: TokenSet[] = [];
    const platform = () => ({ Authorization: `Bearer ${testApp.platformToken}` });
    const callbackPath = () => `/oauth/${fixture.provider}/callback`;
    const count = (route: string) => sandbox.counters.count(route);
    const lastIssued = () => issued[issued.length - 1];

    async function startConnect(body: Record<string, unknown> = {}): Promise<string> {
      const response = await http
        .post('/api/v1/tenants/acme/connections')
        .set(platform())
        .send({ provider: fixture.provider, ...body })
        .expect(201);
      // The API answers a start link on this service; the browser follows it to the CRM's authorize URL.
      return browser.open((response.body as { authorizeUrl: string }).authorizeUrl);
    }

    /** The browser: the sandbox's consent page, Allow, then the redirect to our callback. */
    async function signIn(authorizeUrl: string): Promise<request.Response> {
      const redirect = await approveAuthorization(authorizeUrl);
      expect(redirect.url.pathname).toBe(callbackPath());
      return browser.callback(redirect.url.pathname, { code: redirect.code, state: redirect.state });
    }

    const connection = async (): Promise<ConnectionView> =>
      (await http.get(`/api/v1/tenants/acme/connections/${connectionId}`).set(platform()).expect(200))
        .body as ConnectionView;

    const listConnections = async (): Promise<ConnectionView[]> =>
      (await http.get('/api/v1/tenants/acme/connections').set(platform()).expect(200))
        .body as ConnectionView[];

    /** The connection's credential row as stored, every column. */
    const credentialRows = async (): Promise<string> =>
      JSON.stringify(await orm.em.getConnection().execute('select * from connection_credentials'));

    const sealedTokens = () => openSealedTokens(testApp, connectionId);

    beforeAll(async () => {
      fixture = await fixtureFactory();
      sandbox = fixture.sandbox;
      const connector = fixture.connector;
      const exchange = connector.exchangeCode.bind(connector);
      const refresh = connector.refreshTokens.bind(connector);
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
        { PUBLIC_URL: CONNECT_FLOW_PUBLIC_URL },
        { connectors: { [fixture.provider]: connector } },
      );
      http = request(testApp.app.getHttpServer());
      browser = new OAuthBrowser(http);
      vault = testApp.app.get(TokenVault);
      orm = testApp.app.get<MikroORM>(CRM_ORM);
      await http.put('/api/v1/tenants/acme').set(platform()).send({ name: 'Acme' }).expect(200);
    });

    afterAll(async () => {
      await testApp?.close();
      await sandbox?.stop();
    });

    it('connects through the sandbox consent page and seals the tokens (no plaintext in the database)', async () => {
      const authorizeUrl = new URL(await startConnect());
      expect(`${authorizeUrl.origin}${authorizeUrl.pathname}`).toBe(fixture.authorize.endpoint);
      const params = authorizeUrl.searchParams;
      expect(params.get('client_id')).toBe(sandbox.oauth.clientId);
      expect(params.get('redirect_uri')).toBe(`${CONNECT_FLOW_PUBLIC_URL}${callbackPath()}`);
      expect(params.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(params.get('scope')).toEqual(fixture.authorize.scope);
      expect(params.get('code_challenge_method')).toBe(fixture.authorize.pkce ? 'S256' : null);
      expect(params.get('code_challenge')).toEqual(
        fixture.authorize.pkce ? expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) : null,
      );

      const page = await signIn(authorizeUrl.toString());
      expect(page.status).toBe(200);
      const accountShown = fixture.accountName === null ? '.' : ` (${fixture.accountName}).`;
      expect(page.text).toContain(`Connected to ${fixture.displayName}${accountShown}`);
      // The consent page and its Allow, then exactly the calls the connector makes to connect, once each.
      const authorizePath = new URL(fixture.authorize.endpoint).pathname;
      expect(sandbox.counters.snapshot().byRoute).toEqual(
        Object.fromEntries(
          [`GET ${authorizePath}`, `POST ${authorizePath}`, ...fixture.connectCalls].map((route) => [
            route,
            1,
          ]),
        ),
      );
      expect(count(fixture.routes.token)).toBe(1);

      const list = await listConnections();
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({
        provider: fixture.provider,
        status: 'connected',
        ...fixture.connectedAs,
      });
      [listed] = list;
      connectionId = listed.id;

      const tokens = await sealedTokens();
      expect(tokens).toEqual(
        expect.objectContaining({ accessToken: issued[0].accessToken, refreshToken: issued[0].refreshToken }),
      );
      expect(sandbox.oauth.lookupAccessToken(tokens.accessToken)).toMatchObject({
        revoked: false,
        expired: false,
      });
      expect(sandbox.oauth.lookupRefreshToken(tokens.refreshToken)).toMatchObject({ revoked: false });
      const rows = await credentialRows();
      expect(rows).toContain(connectionId);
      for (const secret of [
        tokens.accessToken,
        tokens.refreshToken,
        ...(fixture.secretPartsOf?.(issued[0]) ?? []),
      ])
        expect(rows).not.toContain(secret);
      expect(JSON.stringify(list)).not.toContain(tokens.accessToken);
    });

    it('refuses a tampered state and a replayed one without calling the CRM or storing anything', async () => {
      const redirect = await approveAuthorization(await startConnect());
      const tokenCalls = count(fixture.routes.token);
      const forged = await browser.callback(callbackPath(), {
        code: redirect.code,
        state: `${redirect.state}x`,
      });
      expect(forged.status).toBe(400);
      expect(forged.text).toContain(REFUSED_STATE_PAGE);
      expect(count(fixture.routes.token)).toBe(tokenCalls);

      const accepted = await browser.callback(callbackPath(), { code: redirect.code, state: redirect.state });
      expect(accepted.status).toBe(200);
      const replay = await browser.callback(callbackPath(), { code: redirect.code, state: redirect.state });
      expect(replay.status).toBe(400);
      expect(replay.text).toContain(REFUSED_STATE_PAGE);
      // Only the accepted callback exchanged its code at the CRM; it signed in to the same account again.
      expect(count(fixture.routes.token)).toBe(tokenCalls + 1);
      expect(await listConnections()).toHaveLength(1);
      expect(await orm.em.getConnection().execute('select id from crm_connections')).toEqual([
        { id: connectionId },
      ]);
    });

    it('refreshes an expired access token once through TokenVault.withSession and carries on', async () => {
      const before = await sealedTokens();
      const tokenCalls = count(fixture.routes.token);
      const apiCalls = count(fixture.apiCall.route);
      sandbox.oauth.expireAllAccessTokens();

      await vault.withSession(connectionId, (session) => fixture.apiCall.run(session));
      expect(count(fixture.routes.token)).toBe(tokenCalls + 1);
      // The first call got the CRM's 401 (AUTH_EXPIRED), the vault refreshed, the second call succeeded.
      expect(count(fixture.apiCall.route)).toBe(apiCalls + 2);
      const refreshed = lastIssued();
      expect(refreshed.accessToken).not.toBe(before.accessToken);
      expect(issued.slice(0, -1).map((tokens) => tokens.accessToken)).not.toContain(refreshed.accessToken);
      expect(refreshed.refreshToken).toBe(
        fixture.refreshAnswersRefreshToken ? before.refreshToken : undefined,
      );
      // Either way the vault keeps the refresh token it has.
      expect(await sealedTokens()).toMatchObject({
        accessToken: refreshed.accessToken,
        refreshToken: before.refreshToken,
      });
      expect(await credentialRows()).not.toContain(refreshed.accessToken);

      const session = await vault.session(connectionId);
      expect(session.accessToken).toBe(refreshed.accessToken);
      expect(session.instanceUrl ?? null).toBe(listed.instanceUrl);
      expect(sandbox.oauth.authenticate(session.accessToken)).toMatchObject({
        accessToken: session.accessToken,
      });
    });

    it('lets only one of two concurrent refreshes reach the CRM', async () => {
      const stale = (await vault.session(connectionId)).accessToken;
      const tokenCalls = count(fixture.routes.token);
      const [a, b] = await Promise.all([
        vault.refresh(connectionId, stale),
        vault.refresh(connectionId, stale),
      ]);
      expect(count(fixture.routes.token)).toBe(tokenCalls + 1);
      expect(a.accessToken).toBe(b.accessToken);
      expect(a.accessToken).not.toBe(stale);
    });

    it('moves the connection to needs_reconnect when the CRM revoked the refresh token, and back on reconnect', async () => {
      const stale = (await sealedTokens()).accessToken;
      sandbox.oauth.revokeAllRefreshTokens();
      sandbox.oauth.expireAllAccessTokens();
      // A call's 401 makes the vault refresh, which the CRM refuses (invalid_grant)…
      const error = await vault
        .withSession(connectionId, (session) => fixture.apiCall.run(session))
        .catch((e: unknown) => e);
      expect(CrmError.is(error, CrmErrorCode.AUTH_REVOKED)).toBe(true);
      // …and so is a refresh asked for directly.
      const refused = await vault.refresh(connectionId, stale).catch((e: unknown) => e);
      expect(CrmError.is(refused, CrmErrorCode.AUTH_REVOKED)).toBe(true);
      const shown = await connection();
      expect(shown).toMatchObject({ status: 'needs_reconnect', health: 'paused' });
      expect(shown.statusReason).toContain(fixture.revokedReason);

      expect((await signIn(await startConnect({ connectionId }))).status).toBe(200);
      expect(await connection()).toMatchObject({
        status: 'connected',
        health: 'healthy',
        statusReason: null,
        ...fixture.connectedAs,
      });
    });

    it('disconnects: revokes the refresh token at the CRM (its access tokens too) and deletes the secrets', async () => {
      const tokens = await sealedTokens();
      expect(tokens.accessToken).toBe(lastIssued().accessToken);
      expect(sandbox.oauth.authenticate(tokens.accessToken)).toMatchObject({
        accessToken: tokens.accessToken,
      });
      expect(count(fixture.routes.revoke)).toBe(0);

      const response = await http
        .delete(`/api/v1/tenants/acme/connections/${connectionId}`)
        .set(platform())
        .expect(200);
      expect(response.body).toEqual({ status: 'disconnected', revokedAtCrm: true });
      expect(count(fixture.routes.revoke)).toBe(1);
      expect(sandbox.oauth.lookupRefreshToken(tokens.refreshToken)).toMatchObject({ revoked: true });
      // Revoking the refresh token ends its sessions too.
      expect(sandbox.oauth.lookupAccessToken(tokens.accessToken)).toMatchObject({ revoked: true });
      expect(sandbox.oauth.authenticate(tokens.accessToken)).toBe('invalid');
      await expect(fixture.connector.refreshTokens(tokens.refreshToken)).rejects.toMatchObject({
        code: CrmErrorCode.AUTH_REVOKED,
      });
      expect(await credentialRows()).toBe('[]');
      expect((await connection()).status).toBe('disconnected');
    });
  });
}
