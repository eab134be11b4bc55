import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { approveAuthorization } from './oauth-browser';
import { pkceChallenge, type OAuthServerConfig } from './oauth-server';
import { SandboxControlClient } from './control-client';
import { SandboxServer } from './sandbox-server';

const CLIENT_ID = 'test-client';
const CLIENT_SECRET = 'test-secret';
const REDIRECT = 'http://127.0.0.1:9/callback';

function oauthConfig(overrides: Partial<OAuthServerConfig> = {}): OAuthServerConfig {
  return {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    crmName: 'TestCRM',
    appName: 'Penguin Test App',
    accessTokenTtlSeconds: 3600,
    supportsPkce: true,
    authorizePath: '/oauth/authorize',
    tokenPath: '/oauth/token',
    revokePath: '/oauth/revoke',
    clientAuth: 'both',
    ...overrides,
  };
}

/** Requests to /api/held wait here until the test answers them; `arrived` tells when the wanted number is held. */
const held = {
  answers: [] as Array<() => void>,
  wanted: 0,
  arrived: (): void => undefined,
};

function createServer(overrides: Partial<OAuthServerConfig> = {}): SandboxServer {
  const server = new SandboxServer({
    name: 'test',
    oauth: oauthConfig(overrides),
    rateLimitResponse: (retryAfter) => ({ status: 429, body: { custom: true, retryAfter } }),
    notFoundResponse: () => ({ status: 404, body: { success: false, error: 'no such route' } }),
  });
  const items: Array<{ id: string }> = [];
  server.get('/api/items', (req, res) => {
    const auth = server.oauth.authenticateRequest(req);
    if (typeof auth === 'string') return void res.status(401).json({ error: auth });
    res.json({ account: auth.account.id, items });
  });
  server.get('/api/items/:id', (req, res) => void res.json({ id: req.params.id }));
  server.get('/api/held', (_req, res) => {
    held.answers.push(() => void res.json({ held: true }));
    if (held.answers.length === held.wanted) held.arrived();
  });
  server.post('/api/boom', () => {
    throw new Error('kaboom');
  });
  server.onReset(() => (items.length = 0));
  server.onSeed((request) => {
    for (let i = 0; i < request.count; i++) items.push({ id: String(items.length + 1) });
    return { created: request.count };
  });
  return server;
}

async function tokenRequest(base: string, form: Record<string, string>, basic?: [string, string]) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${basic[0]}:${basic[1]}`).toString('base64')}`;
  const response = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function authorizeUrl(base: string, params: Record<string, string>): string {
  const url = new URL(`${base}/oauth/authorize`);
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT,
    ...params,
  }))
    url.searchParams.set(name, value);
  return url.toString();
}

describe('SandboxServer + OAuthServer over HTTP', () => {
  let server: SandboxServer;
  let base: string;

  beforeAll(async () => {
    server = createServer();
    base = await server.start();
  });
  afterAll(() => server.stop());
  beforeEach(() => server.reset({ clock: true }));

  it('shows a consent page with app name and scopes, and redirects back with code and state on Allow', async () => {
    const redirect = await approveAuthorization(
      authorizeUrl(base, { scope: 'contacts:read deals:write', state: 'xyz' }),
    );
    expect(redirect.pageHtml).toContain('Penguin Test App');
    expect(redirect.pageHtml).toContain('<li>contacts:read</li>');
    expect(redirect.pageHtml).toMatch(/<button[^>]*value="allow"[^>]*>Allow<\/button>/);
    expect(`${redirect.url.origin}${redirect.url.pathname}`).toBe(REDIRECT);
    expect(redirect.state).toBe('xyz');
    expect(redirect.code).toMatch(/^[\w-]{20,}$/);

    const exchanged = await tokenRequest(base, {
      grant_type: 'authorization_code',
      code: redirect.code!,
      redirect_uri: REDIRECT,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect(exchanged.status).toBe(200);
    expect(exchanged.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'contacts:read deals:write',
    });

    const api = await fetch(`${base}/api/items`, {
      headers: { authorization: `Bearer ${String(exchanged.body.access_token)}` },
    });
    expect(api.status).toBe(200);
    expect(await api.json()).toEqual({ account: '1', items: [] });
  });

  it('redirects with error=access_denied on Deny', async () => {
    const redirect = await approveAuthorization(authorizeUrl(base, { state: 's1' }), { decision: 'deny' });
    expect(redirect.error).toBe('access_denied');
    expect(redirect.state).toBe('s1');
    expect(redirect.code).toBeUndefined();
  });

  it('shows an error page (no redirect) for an unknown client', async () => {
    const response = await fetch(authorizeUrl(base, { client_id: 'someone-else' }), { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('Unknown client_id');
  });

  it('codes are single-use; replaying one fails and revokes the tokens it produced', async () => {
    const { code } = await approveAuthorization(authorizeUrl(base, {}));
    const form = { grant_type: 'authorization_code', code: code!, redirect_uri: REDIRECT };
    const first = await tokenRequest(base, form, [CLIENT_ID, CLIENT_SECRET]);
    expect(first.status).toBe(200);
    const replay = await tokenRequest(base, form, [CLIENT_ID, CLIENT_SECRET]);
    expect(replay).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'authorization code has already been used' },
    });
    expect(server.oauth.authenticate(String(first.body.access_token))).toBe('invalid');
    const refresh = await tokenRequest(
      base,
      { grant_type: 'refresh_token', refresh_token: String(first.body.refresh_token) },
      [CLIENT_ID, CLIENT_SECRET],
    );
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('binds the code to the redirect_uri and client, and checks client credentials', async () => {
    const { code } = await approveAuthorization(authorizeUrl(base, {}));
    const wrongSecret = await tokenRequest(
      base,
      { grant_type: 'authorization_code', code: code!, redirect_uri: REDIRECT },
      [CLIENT_ID, 'nope'],
    );
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body.error).toBe('invalid_client');
    const wrongRedirect = await tokenRequest(
      base,
      { grant_type: 'authorization_code', code: code!, redirect_uri: 'http://127.0.0.1:9/other' },
      [CLIENT_ID, CLIENT_SECRET],
    );
    expect(wrongRedirect.body).toMatchObject({ error: 'invalid_grant' });
  });

  it.each(['S256', 'plain'] as const)('verifies PKCE (%s)', async (method) => {
    const verifier = 'a-verifier-that-is-long-enough-to-be-valid-0123456789';
    const start = () =>
      approveAuthorization(
        authorizeUrl(base, {
          code_challenge: pkceChallenge(verifier, method),
          code_challenge_method: method,
        }),
      );
    const bad = await start();
    const wrong = await tokenRequest(
      base,
      { grant_type: 'authorization_code', code: bad.code!, redirect_uri: REDIRECT, code_verifier: 'wrong' },
      [CLIENT_ID, CLIENT_SECRET],
    );
    expect(wrong.body).toEqual({ error: 'invalid_grant', error_description: 'invalid code verifier' });
    const missing = await start();
    const noVerifier = await tokenRequest(
      base,
      { grant_type: 'authorization_code', code: missing.code!, redirect_uri: REDIRECT },
      [CLIENT_ID, CLIENT_SECRET],
    );
    expect(noVerifier.body.error).toBe('invalid_grant');
    const good = await start();
    const ok = await tokenRequest(
      base,
      { grant_type: 'authorization_code', code: good.code!, redirect_uri: REDIRECT, code_verifier: verifier },
      [CLIENT_ID, CLIENT_SECRET],
    );
    expect(ok.status).toBe(200);
  });

  it('refresh grant after expiry; revoked refresh token gives invalid_grant', async () => {
    const issued = server.oauth.issueTokensDirectly();
    expect(server.oauth.authenticate(issued.accessToken)).toMatchObject({ account: { id: '1' } });
    server.clock.advance(3601 * 1000);
    expect(server.oauth.authenticate(issued.accessToken)).toBe('expired');
    const api = await fetch(`${base}/api/items`, {
      headers: { authorization: `Bearer ${issued.accessToken}` },
    });
    expect(await api.json()).toEqual({ error: 'expired' });

    const refreshed = await tokenRequest(base, {
      grant_type: 'refresh_token',
      refresh_token: issued.refreshToken,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).toBe(issued.refreshToken);
    expect(server.oauth.authenticate(String(refreshed.body.access_token))).not.toBe('expired');

    const revoke = await fetch(`${base}/oauth/revoke`, {
      method: 'POST',
      body: new URLSearchParams({ token: issued.refreshToken }),
    });
    expect(revoke.status).toBe(200);
    expect(server.oauth.authenticate(String(refreshed.body.access_token))).toBe('invalid');
    const after = await tokenRequest(
      base,
      { grant_type: 'refresh_token', refresh_token: issued.refreshToken },
      [CLIENT_ID, CLIENT_SECRET],
    );
    expect(after).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'invalid refresh token' },
    });
  });

  it('reports unsupported grant types', async () => {
    const response = await tokenRequest(base, { grant_type: 'password' }, [CLIENT_ID, CLIENT_SECRET]);
    expect(response.body.error).toBe('unsupported_grant_type');
  });

  it('counts requests by route pattern, including faulted ones, but not the control API', async () => {
    await fetch(`${base}/api/items/1`);
    await fetch(`${base}/api/items/2`);
    server.faults.status(503, { error: 'maintenance' }, { 'x-fault': 'yes' }, { path: '/api/items/:id' });
    const faulted = await fetch(`${base}/api/items/3`);
    expect(faulted.status).toBe(503);
    expect(faulted.headers.get('x-fault')).toBe('yes');
    expect(await faulted.json()).toEqual({ error: 'maintenance' });
    await fetch(`${base}/__sandbox/counters`);
    expect(server.counters.count('GET /api/items/:id')).toBe(3);
    expect(server.counters.total()).toBe(3);
  });

  it('gauges the most requests in flight at once, in process and through the control API', async () => {
    const control = new SandboxControlClient(base);
    await fetch(`${base}/api/items/1`);
    const allHeld = new Promise<void>((resolve) => {
      held.answers = [];
      held.wanted = 3;
      held.arrived = resolve;
    });
    const requests = [1, 2, 3].map(() => fetch(`${base}/api/held`).then((response) => response.json()));
    await allHeld;
    expect(server.counters.inFlight()).toBe(3);
    expect(await control.counters()).toMatchObject({ total: 4, inFlight: 3, maxInFlight: 3 });
    for (const answer of held.answers) answer();
    expect(await Promise.all(requests)).toEqual([{ held: true }, { held: true }, { held: true }]);
    expect(await control.counters()).toMatchObject({ inFlight: 0, maxInFlight: 3 });
    expect(await control.resetCounters()).toMatchObject({ total: 0, inFlight: 0, maxInFlight: 0 });
  });

  it('answers rate-limit storms through the CRM hook with Retry-After', async () => {
    server.faults.rateLimitStorm(2, 7, { path: '/api/items/:id' });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${base}/api/items/1`);
      statuses.push(response.status);
      if (response.status === 429) {
        expect(response.headers.get('retry-after')).toBe('7');
        expect(await response.json()).toEqual({ custom: true, retryAfter: 7 });
      }
    }
    expect(statuses).toEqual([429, 429, 200]);
  });

  it('drops connections and hangs past a client timeout', async () => {
    server.faults.dropConnection({ path: '/api/items/:id' });
    await expect(fetch(`${base}/api/items/1`)).rejects.toThrow();
    server.faults.hang(400, { path: '/api/items/:id' });
    await expect(fetch(`${base}/api/items/1`, { signal: AbortSignal.timeout(100) })).rejects.toThrow(
      /abort|timeout/i,
    );
    const started = Date.now();
    server.faults.latency(150);
    expect((await fetch(`${base}/api/items/5`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('expires access tokens mid-run through a fault', async () => {
    const issued = server.oauth.issueTokensDirectly();
    server.faults.expireAccessTokens({ after: 1, path: '/api/items' });
    const headers = { authorization: `Bearer ${issued.accessToken}` };
    expect((await fetch(`${base}/api/items`, { headers })).status).toBe(200);
    expect((await fetch(`${base}/api/items`, { headers })).status).toBe(401);
  });

  it('uses the CRM 404 and error replies', async () => {
    const missing = await fetch(`${base}/nowhere`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ success: false, error: 'no such route' });
    const boom = await fetch(`${base}/api/boom`, { method: 'POST' });
    expect(boom.status).toBe(500);
    expect(await boom.json()).toEqual({ error: 'kaboom' });
  });

  it('is driven from another process through the control API', async () => {
    const control = new SandboxControlClient(base);
    await control.reset({ oauth: true });
    expect(await control.info()).toMatchObject({
      name: 'test',
      baseUrl: base,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
    });
    expect(await control.seed({ count: 3 })).toEqual({ result: { created: 3 } });
    const { accessToken } = await control.issueTokens();
    const list = await fetch(`${base}/api/items`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(((await list.json()) as { items: unknown[] }).items).toHaveLength(3);

    await control.addFault({ kind: 'status', status: 502, path: '/api/items', times: 1 });
    expect((await fetch(`${base}/api/items`)).status).toBe(502);
    await control.addFault({
      kind: 'recordErrors',
      field: 'email',
      equals: 'x@y.example',
      message: 'bad email',
    });
    expect(server.faults.recordError('contacts', { email: 'x@y.example' })).toEqual({
      message: 'bad email',
      field: 'email',
      code: undefined,
    });

    expect(await control.setClock({ set: '2025-01-01T00:00:00Z', freeze: true })).toEqual({
      now: '2025-01-01T00:00:00.000Z',
      frozen: true,
    });
    expect(server.clock.now().toISOString()).toBe('2025-01-01T00:00:00.000Z');
    await control.setClock({ freeze: false });

    expect(await control.expireAccessTokens()).toEqual({ expired: 1 });
    expect(server.oauth.authenticate(accessToken)).toBe('expired');
    expect((await control.counters()).byRoute).toEqual({ 'GET /api/items': 2 });

    await control.setRateLimit({ limit: 5, windowMs: 2000, enforce: true });
    expect(server.rateLimiter.enforcing).toBe(true);
    server.rateLimiter.configure({});

    await expect(control.addFault({ kind: 'status' } as never)).rejects.toThrow(/400/);
    await control.reset();
    expect(server.counters.total()).toBe(0);
    expect(await control.seed({ count: 1 })).toEqual({ result: { created: 1 } });
  });
});

describe('WebhookDispatcher delivery', () => {
  it('POSTs the payload with Basic auth and signer headers, retrying a failing receiver', async () => {
    const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
    let failuresLeft = 1;
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.statusCode = failuresLeft-- > 0 ? 500 : 200;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const server = new SandboxServer({
      name: 'hooks',
      oauth: oauthConfig(),
      webhooks: { retryDelaysMs: [10], signer: ({ body }) => ({ 'x-signature': `len-${body.length}` }) },
    });
    try {
      server.webhooks.subscribe({
        url,
        events: ['*.person'],
        auth: { type: 'basic', username: 'u', password: 'p' },
      });
      server.webhooks.subscribe({ url, events: ['added.deal'] });
      const results = await server.webhooks.emit({
        type: 'added.person',
        payload: (_sub, attempt) => ({ id: 1, attempt }),
      });
      expect(results).toHaveLength(1);
      expect(results[0]).toMatchObject({ ok: true, attempt: 2, status: 200 });
      expect(received.map((r) => JSON.parse(r.body) as unknown)).toEqual([
        { id: 1, attempt: 1 },
        { id: 1, attempt: 2 },
      ]);
      expect(received[0].headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
      expect(received[0].headers['x-signature']).toBe(`len-${received[0].body.length}`);
      expect(server.webhooks.deliveries().map((d) => d.status)).toEqual([500, 200]);
    } finally {
      await server.stop();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
