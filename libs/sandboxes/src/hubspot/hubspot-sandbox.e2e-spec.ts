// Drives the HubSpot sandbox over real HTTP with the official SDK (@hubspot/api-client 13), as the product's
// connector does: OAuth, paging, search, batches, rate limits, token lifecycle, webhooks and call counters.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@hubspot/api-client';
import { FilterOperatorEnum } from '@hubspot/api-client/lib/codegen/crm/contacts';
import { approveAuthorization } from '../kit/oauth-browser';
import {
  createHubSpotSandbox,
  HubSpotSandbox,
  HUBSPOT_SECONDLY_LIMIT_MESSAGE,
  HUBSPOT_TEN_SECONDLY_LIMIT_MESSAGE,
  verifyHubSpotSignatureV3,
} from './index';

interface SdkError {
  code: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

/** The SDK rejects with an ApiException carrying the HTTP status, the parsed body and the headers. */
async function sdkError(call: Promise<unknown>): Promise<SdkError> {
  try {
    await call;
  } catch (error) {
    const candidate = error as Partial<SdkError>;
    if (typeof candidate.code === 'number') return candidate as SdkError;
    throw error;
  }
  throw new Error('expected the SDK call to fail');
}

interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A local HTTP endpoint standing in for the product (OAuth callback, webhook receiver). */
async function startReceiver(): Promise<{
  url: string;
  received: ReceivedRequest[];
  close: () => Promise<void>;
}> {
  const received: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const SCOPES = [
  'oauth',
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.objects.companies.read',
];

describe('HubSpot sandbox with @hubspot/api-client', () => {
  let sandbox: HubSpotSandbox;
  let basePath: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let redirectUri: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    redirectUri = `${receiver.url}/oauth/hubspot/callback`;
    sandbox = createHubSpotSandbox({ redirectUris: [redirectUri], appName: 'PenguinMails CRM Sync' });
    basePath = await sandbox.start();
  });

  afterAll(async () => {
    await sandbox.stop();
    await receiver.close();
  });

  beforeEach(() => {
    sandbox.reset({ clock: true });
    receiver.received.length = 0;
  });

  function connectedClient(options: { numberOfApiCallRetries?: number } = {}): Client {
    return new Client({
      accessToken: sandbox.issueTokens({ scopes: SCOPES }).accessToken,
      basePath,
      ...options,
    });
  }

  it('connects through the consent page and exchanges the code with tokensApi.create', async () => {
    const authorizeUrl = sandbox.authorizeUrl({ redirectUri, scopes: SCOPES, state: 'csrf-42' });
    const redirect = await approveAuthorization(authorizeUrl);
    expect(redirect.pageHtml).toContain('PenguinMails CRM Sync');
    expect(redirect.pageHtml).toContain('crm.objects.contacts.write');
    // Follow the redirect to the app's callback, as the browser would.
    await fetch(redirect.url);
    const callback = new URL(receiver.received[0].url, receiver.url);
    expect(callback.pathname).toBe('/oauth/hubspot/callback');
    expect(callback.searchParams.get('state')).toBe('csrf-42');
    const code = callback.searchParams.get('code') ?? '';
    expect(code).not.toBe('');

    const oauthClient = new Client({ basePath });
    const { clientId, clientSecret } = sandbox.oauth;
    const tokens = await oauthClient.oauth.tokensApi.create(
      'authorization_code',
      code,
      redirectUri,
      clientId,
      clientSecret,
    );
    expect(tokens).toMatchObject({ tokenType: 'bearer', expiresIn: 1800 });
    expect(tokens.refreshToken).toEqual(expect.any(String));

    const info = await oauthClient.oauth.accessTokensApi.get(tokens.accessToken);
    expect(info.hubId).toBe(sandbox.portalId);
    expect(info.scopes).toEqual(SCOPES);
    expect(info.expiresIn).toBeGreaterThan(1700);
    const refreshInfo = await oauthClient.oauth.refreshTokensApi.get(tokens.refreshToken);
    expect(refreshInfo).toMatchObject({ hubId: sandbox.portalId, clientId, tokenType: 'refresh' });

    const api = new Client({ accessToken: tokens.accessToken, basePath });
    expect((await api.crm.contacts.basicApi.getPage(10)).results).toEqual([]);

    // Codes are single-use.
    const replay = await sdkError(
      oauthClient.oauth.tokensApi.create('authorization_code', code, redirectUri, clientId, clientSecret),
    );
    expect(replay.code).toBe(400);
    expect(replay.body).toMatchObject({ status: 'BAD_AUTH_CODE', correlationId: expect.any(String) });

    const denied = await approveAuthorization(authorizeUrl, { decision: 'deny' });
    expect(denied.error).toBe('access_denied');

    expect(sandbox.counters.count('GET /oauth/authorize')).toBe(2);
    expect(sandbox.counters.count('POST /oauth/authorize')).toBe(2);
    expect(sandbox.counters.count('POST /oauth/v1/token')).toBe(2);
    expect(sandbox.counters.count('GET /oauth/v1/access-tokens/:token')).toBe(1);
    expect(sandbox.counters.count('GET /crm/v3/objects/contacts')).toBe(1);
  });

  it('pages through contacts with limit and after', async () => {
    // Seeded through the control API, as the benchmark does with a sandbox in another process.
    const seeded = await fetch(`${basePath}/__sandbox/seed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ object: 'contacts', count: 250 }),
    });
    expect(seeded.status).toBe(201);
    const client = connectedClient();
    const ids: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await client.crm.contacts.basicApi.getPage(100, after, ['email', 'lastmodifieddate']);
      for (const contact of page.results) {
        expect(contact.properties.email).toMatch(/@/);
        expect(contact.updatedAt).toBeInstanceOf(Date);
        ids.push(contact.id);
      }
      after = page.paging?.next?.after;
      pages += 1;
    } while (after);
    expect(pages).toBe(3);
    expect(new Set(ids).size).toBe(250);
    expect(sandbox.counters.count('GET /crm/v3/objects/contacts')).toBe(3);

    const tooMany = await sdkError(client.crm.contacts.basicApi.getPage(101));
    expect(tooMany.code).toBe(400);
    expect(tooMany.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
  });

  it('searches by lastmodifieddate with a sort, paging through records that share one timestamp', async () => {
    sandbox.clock.freeze();
    const seededAt = sandbox.clock.nowMs();
    sandbox.seedContacts(150, { sameTimestamp: true });
    sandbox.clock.advance(60_000);
    const edited = sandbox.records('contacts').slice(40, 45);
    for (const contact of edited) sandbox.editInCrm('contacts', contact.id, { jobtitle: 'Head of Penguins' });
    const client = connectedClient();

    const changedSince = await client.crm.contacts.searchApi.doSearch({
      filterGroups: [
        {
          filters: [
            { propertyName: 'lastmodifieddate', operator: FilterOperatorEnum.Gt, value: String(seededAt) },
          ],
        },
      ],
      sorts: ['lastmodifieddate'],
      properties: ['email', 'jobtitle', 'lastmodifieddate'],
      limit: 100,
    });
    expect(changedSince.total).toBe(5);
    expect(changedSince.results.map((contact) => contact.id)).toEqual(edited.map((contact) => contact.id));
    expect(changedSince.results[0].properties.jobtitle).toBe('Head of Penguins');
    expect(changedSince.results[0].updatedAt.getTime()).toBe(seededAt + 60_000);

    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = await client.crm.contacts.searchApi.doSearch({
        filterGroups: [
          {
            filters: [
              { propertyName: 'lastmodifieddate', operator: FilterOperatorEnum.Gte, value: String(seededAt) },
            ],
          },
        ],
        sorts: ['lastmodifieddate'],
        properties: ['email'],
        limit: 100,
        after,
      });
      expect(page.total).toBe(150);
      seen.push(...page.results.map((contact) => contact.id));
      after = page.paging?.next?.after;
    } while (after);
    expect(new Set(seen).size).toBe(150);
    expect(seen.slice(-5)).toEqual(edited.map((contact) => contact.id));
    expect(sandbox.counters.count('POST /crm/v3/objects/contacts/search')).toBe(3);

    const byEmail = await client.crm.contacts.searchApi.doSearch({
      filterGroups: [
        {
          filters: [
            {
              propertyName: 'email',
              operator: FilterOperatorEnum.Eq,
              value: edited[0].properties.email.toUpperCase(),
            },
          ],
        },
      ],
      limit: 1,
    });
    expect(byEmail.results.map((contact) => contact.id)).toEqual([edited[0].id]);
  });

  it('refuses to page a search past 10,000 results', async () => {
    sandbox.seedContacts(10_050, { sameTimestamp: true });
    const client = connectedClient();
    const search = (after: string) =>
      client.crm.contacts.searchApi.doSearch({
        sorts: ['lastmodifieddate'],
        properties: ['email'],
        limit: 200,
        after,
      });

    const lastPage = await search('9800');
    expect(lastPage.total).toBe(10_050);
    expect(lastPage.results).toHaveLength(200);
    expect(lastPage.paging?.next?.after).toBe('10000');

    const capped = await sdkError(search('10000'));
    expect(capped.code).toBe(400);
    expect(capped.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
  });

  it('reports one bad record of a batch create in a 207 and creates the others', async () => {
    sandbox.faults.recordErrors(
      { field: 'properties.email', equals: 'blocked@acme.example' },
      {
        message: 'Email address blocked@acme.example is on a blocklist',
        field: 'email',
        code: 'INVALID_EMAIL',
      },
    );
    const client = connectedClient();
    const created = await client.crm.contacts.batchApi.createWithHttpInfo({
      inputs: [
        { properties: { email: 'ada@acme.example', firstname: 'Ada' }, associations: [] },
        { properties: { email: 'not-an-email' }, associations: [], objectWriteTraceId: 'row-2' },
        {
          properties: { email: 'grace@acme.example', shoe_size: '42' },
          associations: [],
          objectWriteTraceId: 'row-3',
        },
        { properties: { email: 'blocked@acme.example' }, associations: [], objectWriteTraceId: 'row-4' },
        { properties: { email: 'linus@acme.example' }, associations: [] },
      ],
    });
    expect(created.httpStatusCode).toBe(207);
    const body = created.data;
    expect(body.results.map((contact) => contact.properties.email).sort()).toEqual([
      'ada@acme.example',
      'linus@acme.example',
    ]);
    const errors = 'errors' in body ? (body.errors ?? []) : [];
    expect('numErrors' in body && body.numErrors).toBe(3);
    expect(errors.map((error) => error.context?.objectWriteTraceId?.[0])).toEqual([
      'row-2',
      'row-3',
      'row-4',
    ]);
    expect(errors.map((error) => error.category)).toEqual([
      'VALIDATION_ERROR',
      'VALIDATION_ERROR',
      'VALIDATION_ERROR',
    ]);
    expect(errors[0].message).toContain('INVALID_EMAIL');
    expect(errors[1].message).toContain('PROPERTY_DOESNT_EXIST');
    expect(errors[2].message).toContain('blocklist');
    expect(sandbox.records('contacts')).toHaveLength(2);

    const duplicate = await sdkError(
      client.crm.contacts.basicApi.create({ properties: { email: 'ADA@acme.example' }, associations: [] }),
    );
    expect(duplicate.code).toBe(409);
    expect(duplicate.body.message).toMatch(/^Contact already exists\. Existing ID: \d+$/);

    const tooLarge = await sdkError(
      client.crm.contacts.batchApi.create({
        inputs: Array.from({ length: 101 }, (_, index) => ({
          properties: { email: `bulk${index}@acme.example` },
          associations: [],
        })),
      }),
    );
    expect(tooLarge.code).toBe(400);
    expect(tooLarge.body).toMatchObject({ category: 'VALIDATION_ERROR' });
    expect(sandbox.records('contacts')).toHaveLength(2);
    expect(sandbox.counters.count('POST /crm/v3/objects/contacts/batch/create')).toBe(2);
  });

  it('can instead refuse a whole batch with a 400 when one record is invalid', async () => {
    const strict = createHubSpotSandbox({ batchValidation: 'whole-batch' });
    const strictBase = await strict.start();
    try {
      const client = new Client({ accessToken: strict.issueTokens().accessToken, basePath: strictBase });
      const refused = await sdkError(
        client.crm.contacts.batchApi.create({
          inputs: [
            { properties: { email: 'ok@acme.example' }, associations: [] },
            { properties: { email: 'broken' }, associations: [] },
          ],
        }),
      );
      expect(refused.code).toBe(400);
      expect(refused.body.message).toContain('INVALID_EMAIL');
      expect(strict.records('contacts')).toHaveLength(0);
      // Defaults: any redirect URI, the kit's app name on the consent page.
      const page = await fetch(strict.authorizeUrl({ redirectUri: 'http://127.0.0.1:9/callback' }));
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('PenguinMails');
    } finally {
      await strict.stop();
    }
  });

  it('upserts contacts by email, telling new from existing', async () => {
    const existing = sandbox.createInCrm('contacts', { email: 'ada@lovelace.example', firstname: 'Ada' });
    const client = connectedClient();
    const upserted = await client.crm.contacts.batchApi.upsert({
      inputs: [
        { id: 'ada@lovelace.example', idProperty: 'email', properties: { jobtitle: 'Countess' } },
        { id: 'grace@hopper.example', idProperty: 'email', properties: { firstname: 'Grace' } },
      ],
    });
    const byEmail = new Map(upserted.results.map((result) => [result.properties.email, result]));
    expect(byEmail.get('ada@lovelace.example')).toMatchObject({ id: existing.id, _new: false });
    expect(byEmail.get('grace@hopper.example')).toMatchObject({ _new: true });
    expect(sandbox.record('contacts', existing.id)?.properties.jobtitle).toBe('Countess');

    const grace = await client.crm.contacts.basicApi.getById(
      'grace@hopper.example',
      ['firstname', 'email'],
      undefined,
      undefined,
      false,
      'email',
    );
    expect(grace.properties).toEqual({ firstname: 'Grace', email: 'grace@hopper.example' });
    expect(sandbox.counters.count('POST /crm/v3/objects/contacts/batch/upsert')).toBe(1);
    expect(sandbox.counters.count('GET /crm/v3/objects/contacts/:objectId')).toBe(1);
  });

  it('serves properties, custom properties and v4 associations', async () => {
    const client = connectedClient();
    const properties = await client.crm.properties.coreApi.getAll('contacts');
    expect(properties.results.map((property) => property.name)).toEqual(
      expect.arrayContaining(['email', 'firstname', 'lastmodifieddate', 'hs_object_id']),
    );
    await client.crm.properties.coreApi.create('contacts', {
      name: 'penguin_score',
      label: 'Penguin score',
      type: 'number' as never,
      fieldType: 'number' as never,
      groupName: 'contactinformation',
    });
    const company = await client.crm.companies.basicApi.create({
      properties: { name: 'Acme', domain: 'acme.example' },
      associations: [],
    });
    const contact = await client.crm.contacts.basicApi.create({
      properties: { email: 'wile@acme.example', penguin_score: '7' },
      associations: [
        {
          to: { id: company.id },
          types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 279 }],
        },
      ],
    });
    expect(contact.properties.penguin_score).toBe('7');

    const fromContact = await client.crm.associations.v4.basicApi.getPage(
      'contacts',
      contact.id,
      'companies',
    );
    expect(fromContact.results).toEqual([
      expect.objectContaining({
        toObjectId: Number(company.id),
        associationTypes: [expect.objectContaining({ typeId: 279 })],
      }),
    ]);
    const withAssociations = await client.crm.companies.basicApi.getById(company.id, undefined, undefined, [
      'contacts',
    ]);
    expect(withAssociations.associations?.contacts.results).toEqual([
      expect.objectContaining({ id: contact.id, type: 'company_to_contact_unlabeled' }),
    ]);

    const other = sandbox.createInCrm('contacts', { email: 'roadrunner@acme.example' });
    const defaults = await client.crm.associations.v4.basicApi.createDefault(
      'companies',
      company.id,
      'contacts',
      other.id,
    );
    expect(defaults.results[0]).toMatchObject({ associationSpec: { associationTypeId: 280 } });
    const fromCompany = await client.crm.associations.v4.basicApi.getPage(
      'companies',
      company.id,
      'contacts',
    );
    expect(fromCompany.results.map((entry) => String(entry.toObjectId)).sort()).toEqual(
      [contact.id, other.id].sort(),
    );

    const unknown = await sdkError(
      client.crm.contacts.basicApi.update(contact.id, { properties: { favourite_fish: 'herring' } }),
    );
    expect(unknown.code).toBe(400);
    expect(unknown.body.message).toContain('PROPERTY_DOESNT_EXIST');
  });

  it('logs emails against contacts, searches companies by hs_lastmodifieddate and lists archived records', async () => {
    const client = connectedClient();
    const contact = sandbox.createInCrm('contacts', { email: 'reader@acme.example' });
    const missingTimestamp = await sdkError(
      client.crm.objects.emails.basicApi.create({
        properties: { hs_email_subject: 'Hello' },
        associations: [],
      }),
    );
    expect(missingTimestamp.code).toBe(400);
    expect(missingTimestamp.body.message).toContain('hs_timestamp');

    const email = await client.crm.objects.emails.basicApi.create({
      properties: {
        hs_timestamp: '2025-03-01T10:00:00.000Z',
        hs_email_direction: 'EMAIL',
        hs_email_status: 'SENT',
        hs_email_subject: 'Hello',
        hs_email_text: 'Hi there',
      },
      associations: [
        {
          to: { id: contact.id },
          types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 198 }],
        },
      ],
    });
    expect(email.properties).toMatchObject({
      hs_timestamp: '2025-03-01T10:00:00.000Z',
      hs_object_id: email.id,
    });
    const badStatus = await sdkError(
      client.crm.objects.emails.basicApi.update(email.id, { properties: { hs_email_status: 'LOST' } }),
    );
    expect(badStatus.body.message).toContain('INVALID_OPTION');
    const contactEmails = await client.crm.associations.v4.basicApi.getPage('contacts', contact.id, 'emails');
    expect(contactEmails.results.map((entry) => String(entry.toObjectId))).toEqual([email.id]);

    sandbox.clock.freeze();
    const before = sandbox.clock.nowMs();
    sandbox.seedCompanies(3);
    sandbox.clock.advance(1000);
    const [renamed] = sandbox.records('companies');
    sandbox.editInCrm('companies', renamed.id, { name: 'Renamed Inc' });
    const changed = await client.crm.companies.searchApi.doSearch({
      filterGroups: [
        {
          filters: [
            { propertyName: 'hs_lastmodifieddate', operator: FilterOperatorEnum.Gt, value: String(before) },
          ],
        },
      ],
      properties: ['name'],
      limit: 10,
    });
    expect(changed.results.map((company) => company.properties.name)).toEqual(['Renamed Inc']);

    sandbox.deleteInCrm('contacts', contact.id);
    expect((await sdkError(client.crm.contacts.basicApi.getById(contact.id))).code).toBe(404);
    const archived = await client.crm.contacts.basicApi.getPage(
      10,
      undefined,
      ['email'],
      undefined,
      undefined,
      true,
    );
    expect(archived.results).toEqual([
      expect.objectContaining({
        id: contact.id,
        archived: true,
        properties: { email: 'reader@acme.example' },
      }),
    ]);
    expect((await client.crm.contacts.basicApi.getPage(10)).results).toEqual([]);
  });

  it('answers a 429 storm with Retry-After and HubSpot headers; the SDK retries only what it knows', async () => {
    const client = connectedClient();
    sandbox.faults.rateLimitStorm(1, 1, { method: 'GET', path: '/crm/v3/objects/contacts' });
    // Without numberOfApiCallRetries the SDK hands the 429 to the caller, who honours Retry-After.
    const refused = await sdkError(client.crm.contacts.basicApi.getPage(10));
    expect(refused.code).toBe(429);
    expect(refused.body).toMatchObject({
      status: 'error',
      message: HUBSPOT_TEN_SECONDLY_LIMIT_MESSAGE,
      errorType: 'RATE_LIMIT',
      policyName: 'TEN_SECONDLY_ROLLING',
      correlationId: expect.any(String),
    });
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers['x-hubspot-ratelimit-remaining']).toBe('0');
    // The storm was one answer long: the caller's retry (after its Retry-After pause) goes through.
    const page = await client.crm.contacts.basicApi.getPageWithHttpInfo(10);
    expect(page.httpStatusCode).toBe(200);
    expect(page.headers['x-hubspot-ratelimit-max']).toBe('110');
    expect(page.headers['x-hubspot-ratelimit-interval-milliseconds']).toBe('10000');
    expect(sandbox.counters.count('GET /crm/v3/objects/contacts')).toBe(2);

    // The SDK's own retry waits 1 s × attempt on the search "secondly" message (and ignores Retry-After).
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      sandbox.faults.rateLimitStorm(1, 30, { path: '/crm/v3/objects/contacts/search' });
      const retrying = connectedClient({ numberOfApiCallRetries: 2 });
      const found = await retrying.crm.contacts.searchApi.doSearch({ limit: 1 });
      expect(found.total).toBe(0);
      expect(logged).toHaveBeenCalledWith(expect.stringContaining('[429]'));
    } finally {
      logged.mockRestore();
    }
    expect(sandbox.counters.count('POST /crm/v3/objects/contacts/search')).toBe(2);
  });

  it('enforces the ten-second window when asked, counting down X-HubSpot-RateLimit-Remaining', async () => {
    sandbox.rateLimiter.configure({ limit: 3, windowMs: 10_000, enforce: true }, true);
    try {
      const client = connectedClient();
      const remaining: string[] = [];
      for (let call = 0; call < 3; call++) {
        const page = await client.crm.contacts.basicApi.getPageWithHttpInfo(1);
        remaining.push(page.headers['x-hubspot-ratelimit-remaining']);
      }
      expect(remaining).toEqual(['2', '1', '0']);
      const refused = await sdkError(client.crm.contacts.basicApi.getPage(1));
      expect(refused.code).toBe(429);
      expect(refused.body).toMatchObject({ policyName: 'TEN_SECONDLY_ROLLING', errorType: 'RATE_LIMIT' });

      sandbox.searchRateLimiter.configure({ limit: 1, windowMs: 1000, enforce: true }, true);
      await client.crm.contacts.searchApi.doSearch({ limit: 1 });
      const searchRefused = await sdkError(client.crm.contacts.searchApi.doSearch({ limit: 1 }));
      expect(searchRefused.code).toBe(429);
      expect(searchRefused.body).toMatchObject({ message: HUBSPOT_SECONDLY_LIMIT_MESSAGE });
    } finally {
      sandbox.rateLimiter.configure({ limit: 110, windowMs: 10_000, enforce: false }, true);
      sandbox.searchRateLimiter.configure({ limit: 5, windowMs: 1000, enforce: false }, true);
    }
  });

  it('refreshes an expired access token with tokensApi.create', async () => {
    const tokens = sandbox.issueTokens({ scopes: SCOPES });
    const client = new Client({ accessToken: tokens.accessToken, basePath });
    await client.crm.contacts.basicApi.getPage(1);

    sandbox.clock.advance(1801 * 1000);
    const expired = await sdkError(client.crm.contacts.basicApi.getPage(1));
    expect(expired.code).toBe(401);
    expect(expired.body).toMatchObject({ status: 'error', category: 'EXPIRED_AUTHENTICATION' });

    const { clientId, clientSecret } = sandbox.oauth;
    const refreshed = await new Client({ basePath }).oauth.tokensApi.create(
      'refresh_token',
      undefined,
      undefined,
      clientId,
      clientSecret,
      tokens.refreshToken,
    );
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    expect(refreshed.refreshToken).toBe(tokens.refreshToken);
    client.setAccessToken(refreshed.accessToken);
    await expect(client.crm.contacts.basicApi.getPage(1)).resolves.toMatchObject({ results: [] });

    // Mid-run expiry injected as a fault.
    sandbox.faults.expireAccessTokens({ path: '/crm/v3/objects/contacts' });
    expect((await sdkError(client.crm.contacts.basicApi.getPage(1))).code).toBe(401);
    expect(sandbox.counters.count('POST /oauth/v1/token')).toBe(1);
    expect(sandbox.counters.count('GET /crm/v3/objects/contacts')).toBe(4);
  });

  it('answers BAD_REFRESH_TOKEN after the refresh token is deleted', async () => {
    const tokens = sandbox.issueTokens({ scopes: SCOPES });
    const oauthClient = new Client({ basePath });
    await oauthClient.oauth.refreshTokensApi.archive(tokens.refreshToken);
    const { clientId, clientSecret } = sandbox.oauth;
    const refused = await sdkError(
      oauthClient.oauth.tokensApi.create(
        'refresh_token',
        undefined,
        undefined,
        clientId,
        clientSecret,
        tokens.refreshToken,
      ),
    );
    expect(refused.code).toBe(400);
    expect(refused.body).toMatchObject({
      status: 'BAD_REFRESH_TOKEN',
      message: 'missing or invalid refresh token',
      correlationId: expect.any(String),
    });
    expect((await sdkError(oauthClient.oauth.refreshTokensApi.get(tokens.refreshToken))).code).toBe(404);

    // Revocation injected as a fault on the next API call.
    const second = sandbox.issueTokens({ scopes: SCOPES });
    sandbox.faults.revokeRefreshTokens({ path: '/crm/v3/objects/contacts' });
    await new Client({ accessToken: second.accessToken, basePath }).crm.contacts.basicApi.getPage(1);
    const revoked = await sdkError(
      oauthClient.oauth.tokensApi.create(
        'refresh_token',
        undefined,
        undefined,
        clientId,
        clientSecret,
        second.refreshToken,
      ),
    );
    expect(revoked.body).toMatchObject({ status: 'BAD_REFRESH_TOKEN' });
    expect(sandbox.counters.count('DELETE /oauth/v1/refresh-tokens/:token')).toBe(1);
    expect(sandbox.counters.count('POST /oauth/v1/token')).toBe(2);
  });

  it('delivers webhook events signed with X-HubSpot-Signature-v3', async () => {
    const webhookUrl = `${receiver.url}/webhooks/hubspot?source=sandbox`;
    sandbox.subscribeWebhooks(webhookUrl);
    const contact = sandbox.createInCrm('contacts', { email: 'hook@acme.example' });
    await sandbox.flushWebhooks();
    sandbox.editInCrm('contacts', contact.id, { firstname: 'Hook', lastname: 'Hand' });
    await sandbox.flushWebhooks();

    expect(receiver.received).toHaveLength(2);
    const [creation, change] = receiver.received;
    const creationEvents = JSON.parse(creation.body) as Array<Record<string, unknown>>;
    expect(creationEvents).toEqual([
      expect.objectContaining({
        subscriptionType: 'contact.creation',
        objectId: Number(contact.id),
        portalId: sandbox.portalId,
        attemptNumber: 0,
      }),
    ]);
    const changeEvents = JSON.parse(change.body) as Array<Record<string, unknown>>;
    expect(changeEvents.map((event) => [event.propertyName, event.propertyValue])).toEqual([
      ['firstname', 'Hook'],
      ['lastname', 'Hand'],
    ]);

    const { clientSecret } = sandbox.oauth;
    const verify = (request: ReceivedRequest, secret: string, body = request.body) =>
      verifyHubSpotSignatureV3({
        clientSecret: secret,
        method: request.method,
        uri: `${receiver.url}${request.url}`,
        body,
        signature: request.headers['x-hubspot-signature-v3'] as string | undefined,
        timestamp: request.headers['x-hubspot-request-timestamp'] as string | undefined,
      });
    expect(verify(change, clientSecret)).toBe(true);
    expect(verify(change, 'another-apps-secret')).toBe(false);
    expect(verify(change, clientSecret, change.body.replace('Hook', 'Hack'))).toBe(false);
    expect(sandbox.webhooks.deliveries().every((delivery) => delivery.ok)).toBe(true);
    // Webhooks are outbound: they are not API calls of the client.
    expect(sandbox.counters.total()).toBe(0);
  });
});
