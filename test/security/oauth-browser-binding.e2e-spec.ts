import request from 'supertest';
import { InMemoryConnector, InMemoryCrm } from '@pm/integration-port/testing';
import { OAuthBrowser } from '../support/oauth-browser';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Issue 14, hole 4: an OAuth state is bound to the browser that started the flow. The API answers a start link on
 * this service; the first browser to open it gets a binding cookie, and the callback needs that cookie. A code
 * obtained in another browser (tenant B's) cannot complete tenant A's flow, even with A's state.
 */
describe('OAuth state bound to the browser that started the flow', () => {
  let testApp: TestApp;
  let http: ReturnType<typeof request>;
  let crm: InMemoryCrm;
  const platform = () => ({ Authorization: `Bearer ${testApp.platformToken}` });
  const callback = '/oauth/in-memory/callback';

  async function startLink(tenant: string): Promise<string> {
    const response = await http
      .post(`/api/v1/tenants/${tenant}/connections`)
      .set(platform())
      .send({ provider: 'in-memory' })
      .expect(201);
    return (response.body as { authorizeUrl: string }).authorizeUrl;
  }

  const connections = async (tenant: string) =>
    (await http.get(`/api/v1/tenants/${tenant}/connections`).set(platform()).expect(200)).body as unknown[];

  beforeAll(async () => {
    crm = new InMemoryCrm();
    testApp = await startTestApp(
      { PUBLIC_URL: 'https://crm.test' },
      { connectors: { 'in-memory': new InMemoryConnector(crm) } },
    );
    http = request(testApp.app.getHttpServer());
    for (const tenant of ['acme', 'beta']) {
      await http.put(`/api/v1/tenants/${tenant}`).set(platform()).send({ name: tenant }).expect(200);
    }
  });

  afterAll(() => testApp.close());

  it("refuses tenant B's code on tenant A's state from B's browser, and lets A's browser finish", async () => {
    const victim = new OAuthBrowser(http);
    const attacker = new OAuthBrowser(http);

    const acmeLink = await startLink('acme');
    expect(new URL(acmeLink).pathname).toBe('/oauth/in-memory/start');
    const acmeAuthorize = await victim.open(acmeLink);
    const acmeState = new URL(acmeAuthorize).searchParams.get('state')!;

    // The attacker runs its own (tenant B's) flow to get a code for its CRM account, then presents it with A's state.
    const betaCode = crm.approveAuthorization(await attacker.open(await startLink('beta'))).code;
    const hijack = await attacker.callback(callback, { code: betaCode, state: acmeState });
    expect(hijack.status).toBe(400);
    expect(hijack.text).toContain('was started in another browser');
    expect(await connections('acme')).toEqual([]);

    // Opening A's (leaked) start link in a second browser does not bind it there.
    const second = await http.get(new URL(acmeLink).pathname + new URL(acmeLink).search).redirects(0);
    expect(second.status).toBe(400);
    expect(second.headers['set-cookie']).toBeUndefined();

    const { code } = crm.approveAuthorization(acmeAuthorize);
    const finished = await victim.callback(callback, { code, state: acmeState });
    expect(finished.status).toBe(200);
    expect(await connections('acme')).toHaveLength(1);
    expect(await connections('beta')).toEqual([]);
  });

  it('sets the binding cookie HttpOnly, SameSite=Lax, Secure over https, scoped to the CRM and short-lived', async () => {
    const link = new URL(await startLink('acme'));
    const response = await http
      .get(link.pathname + link.search)
      .redirects(0)
      .expect(302);
    const [cookie] = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
    expect(cookie).toMatch(/^pm_crm_oauth_[0-9a-f]{16}=/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; Path=\/oauth\/in-memory\//);
    expect(cookie).toMatch(/; Max-Age=600/);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('refuses a callback with no binding cookie at all, without exchanging the code', async () => {
    const browser = new OAuthBrowser(http);
    const authorize = await browser.open(await startLink('beta'));
    const { code, state } = crm.approveAuthorization(authorize);
    const cookieless = await http.get(callback).query({ code, state });
    expect(cookieless.status).toBe(400);
    // The code was not spent: the right browser can still finish.
    expect((await browser.callback(callback, { code, state: state! })).status).toBe(200);
  });
});
