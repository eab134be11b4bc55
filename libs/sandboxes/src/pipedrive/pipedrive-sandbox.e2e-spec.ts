import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { v1, v2 } from 'pipedrive';
import { SandboxControlClient, approveAuthorization } from '../kit';
import { createPipedriveSandbox, type PipedriveSandbox } from './pipedrive-sandbox';

const REDIRECT_URI = 'http://127.0.0.1:9/pipedrive/callback';

/** What the pipedrive SDK rejects with: the response body only (no status). */
interface PipedriveErrorBody {
  success: false;
  error: string;
  errorCode?: number;
  error_info: string;
  data: null;
}

async function rejection(promise: Promise<unknown>): Promise<PipedriveErrorBody> {
  try {
    await promise;
  } catch (error) {
    return error as PipedriveErrorBody;
  }
  throw new Error('expected the SDK call to fail');
}

describe('Pipedrive sandbox driven by the official pipedrive SDK', () => {
  let sandbox: PipedriveSandbox;
  let base: string;

  beforeAll(async () => {
    sandbox = createPipedriveSandbox({ redirectUris: [REDIRECT_URI], seed: 42 });
    base = await sandbox.start();
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => {
    sandbox.reset({ clock: true });
    sandbox.rateLimiter.configure({ limit: 80, windowMs: 2000, dailyLimit: 30_000, now: Date.now }, true);
  });

  /** Full consent dance with the SDK's OAuth2Configuration; returns it and API clients bound to its token. */
  async function connect() {
    const oauth2 = new v2.OAuth2Configuration({
      clientId: sandbox.oauth.clientId,
      clientSecret: sandbox.oauth.clientSecret,
      redirectUri: REDIRECT_URI,
      host: base,
    });
    let accessToken = '';
    oauth2.onTokenUpdate = (token) => {
      accessToken = token.access_token;
    };
    const redirect = await approveAuthorization(`${oauth2.authorizationUrl}&state=csrf-123`);
    expect(redirect.state).toBe('csrf-123');
    const token = await oauth2.authorize(redirect.code!);
    const configuration = new v2.Configuration({ accessToken: () => accessToken, basePath: oauth2.basePath });
    const v1Configuration = new v1.Configuration({ accessToken: () => accessToken, basePath: `${base}/v1` });
    return {
      oauth2,
      token,
      redirect,
      persons: new v2.PersonsApi(configuration),
      organizations: new v2.OrganizationsApi(configuration),
      activities: new v2.ActivitiesApi(configuration),
      personFields: new v1.PersonFieldsApi(v1Configuration),
      organizationFields: new v1.OrganizationFieldsApi(v1Configuration),
      webhooks: new v1.WebhooksApi(v1Configuration),
      token$: () => accessToken,
    };
  }

  it('runs the OAuth dance: consent page, code, token with api_domain; the SDK then calls {api_domain}/api/v2', async () => {
    const { token, redirect, oauth2, persons } = await connect();
    expect(redirect.pageHtml).toContain('Pipedrive sandbox');
    expect(redirect.pageHtml).toContain('contacts:full');
    expect(token).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3599,
      api_domain: base,
      scope: 'base,contacts:full,activities:full',
    });
    expect(token.access_token).toMatch(/^7654321:1:[0-9a-f]{32}$/);
    expect(oauth2.basePath).toBe(`${base}/api/v2`);
    const list = await persons.getPersons({ limit: 10 });
    expect(list).toEqual({ success: true, data: [], additional_data: { next_cursor: null } });
    expect(sandbox.counters.count('POST /oauth/token')).toBe(1);
    expect(sandbox.counters.count('GET /api/v2/persons')).toBe(1);
  });

  it('rejects the token request without HTTP Basic client authentication, and codes for another redirect_uri', async () => {
    const { code } = await approveAuthorization(
      `${base}/oauth/authorize?client_id=${sandbox.oauth.clientId}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`,
    );
    const bodyAuth = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: code!,
        redirect_uri: REDIRECT_URI,
        client_id: sandbox.oauth.clientId,
        client_secret: sandbox.oauth.clientSecret,
      }),
    });
    expect(bodyAuth.status).toBe(401);
    expect(((await bodyAuth.json()) as { error: string }).error).toBe('invalid_client');
    const page = await fetch(
      `${base}/oauth/authorize?client_id=${sandbox.oauth.clientId}&redirect_uri=http://evil.example/cb`,
    );
    expect(page.status).toBe(400);
  });

  it('pages persons with limit and cursor (more than one page), filters by updated_since and sorts', async () => {
    sandbox.seedPersons(250);
    const { persons } = await connect();
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await persons.getPersons({ limit: 100, cursor });
      seen.push(...page.data!.map((p) => p.id!));
      cursor = page.additional_data?.next_cursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(250);
    expect(new Set(seen).size).toBe(250);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));

    const first = (await persons.getPersons({ limit: 1 })).data![0];
    expect(first).toMatchObject({
      first_name: expect.any(String),
      emails: [{ value: expect.stringMatching(/@.+\.example$/), primary: true, label: 'work' }],
      org_id: expect.any(Number),
      update_time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
    });
    expect(Object.keys(first.custom_fields!)).toHaveLength(2);

    // Seeded stamps step one second apart ending now: the last 10 are "since" 9 seconds ago.
    const newest = await persons.getPersons({ sort_by: 'update_time', sort_direction: 'desc', limit: 500 });
    const tenth = newest.data![9].update_time!;
    const since = await persons.getPersons({ updated_since: tenth, limit: 500 });
    expect(since.data!.map((p) => p.id).sort()).toEqual(
      newest
        .data!.slice(0, 10)
        .map((p) => p.id)
        .sort(),
    );

    const tooMany = await fetch(`${base}/api/v2/persons?limit=501`, {
      headers: { authorization: `Bearer ${sandbox.oauth.issueTokensDirectly().accessToken}` },
    });
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toMatchObject({
      success: false,
      error: expect.stringContaining('limit'),
      data: null,
    });
    expect(sandbox.counters.count('GET /api/v2/persons')).toBe(7);
  });

  it('pages 1,200 persons that share one update_time without losing or repeating any', async () => {
    sandbox.clock.freeze();
    sandbox.seedPersons(1200, { sameTimestamp: true, withOrganizations: false });
    const { persons } = await connect();
    const stamp = sandbox.records('persons')[0].update_time as string;
    const ids = new Set<number>();
    let cursor: string | undefined;
    do {
      const page = await persons.getPersons({
        updated_since: stamp,
        sort_by: 'update_time',
        limit: 500,
        cursor,
      });
      for (const person of page.data!) ids.add(person.id!);
      cursor = page.additional_data?.next_cursor ?? undefined;
    } while (cursor);
    expect(ids.size).toBe(1200);
    expect(new Set(sandbox.records('persons').map((p) => p.update_time)).size).toBe(1);
  });

  it('creates, reads, updates, searches by email and deletes persons; one bad record in a batch fails alone', async () => {
    const { persons, organizations } = await connect();
    const org = await organizations.addOrganization({ AddOrganizationRequest: { name: 'Penguin Labs' } });
    const leadSource = sandbox.personFieldKey('LinkedIn profile');
    sandbox.faults.recordErrors(
      { object: 'persons', field: 'emails', contains: 'bad@' },
      { message: 'Invalid email address', field: 'emails' },
    );
    const inputs = ['ada@penguin.example', 'bad@penguin.example', 'grace@penguin.example'];
    const results = await Promise.allSettled(
      inputs.map((email, i) =>
        persons.addPerson({
          AddPersonRequest: {
            name: `Person ${i}`,
            org_id: org.data!.id,
            emails: [{ value: email, primary: true, label: 'work' }],
            custom_fields: { [leadSource]: `https://linkedin.example/${i}` },
          },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({
      success: false,
      error: 'Validation failed: emails: Invalid email address',
      data: null,
    });
    const ada = (results[0] as PromiseFulfilledResult<v2.UpsertPersonResponse>).value.data!;
    expect(ada).toMatchObject({
      name: 'Person 0',
      first_name: 'Person',
      last_name: '0',
      org_id: org.data!.id,
    });

    const found = await persons.searchPersons({
      term: 'ADA@penguin.example',
      fields: 'email',
      exact_match: true,
    });
    expect(found.data!.items!.map((i) => i.item!.id)).toEqual([ada.id]);
    expect(found.data!.items![0].item).toMatchObject({
      emails: ['ada@penguin.example'],
      organization: { name: 'Penguin Labs' },
    });
    expect(
      (await persons.searchPersons({ term: 'nobody@penguin.example', fields: 'email', exact_match: true }))
        .data!.items,
    ).toEqual([]);

    sandbox.clock.advance(5000);
    const updated = await persons.updatePerson({
      id: ada.id!,
      UpdatePersonRequest: { name: 'Ada Lovelace', job_title: 'CTO' },
    });
    expect(updated.data).toMatchObject({ name: 'Ada Lovelace', last_name: 'Lovelace', job_title: 'CTO' });
    expect(Date.parse(updated.data!.update_time!)).toBeGreaterThan(Date.parse(ada.update_time!));
    expect(updated.data!.custom_fields![leadSource]).toBe('https://linkedin.example/0');

    expect(await persons.deletePerson({ id: ada.id! })).toEqual({ success: true, data: { id: ada.id } });
    expect(await rejection(persons.getPerson({ id: ada.id! }))).toEqual({
      success: false,
      error: 'Person not found',
      error_info: expect.any(String),
      data: null,
      additional_data: null,
    });
    expect(sandbox.deletedRecords('persons').map((d) => d.id)).toEqual([ada.id]);
    expect(sandbox.counters.count('POST /api/v2/persons')).toBe(3);
    expect(sandbox.counters.count('GET /api/v2/persons/search')).toBe(2);
  });

  it('keeps a person’s marketing status: written through the SDK, read only through include_fields, other values refused', async () => {
    const { persons } = await connect();
    const added = await persons.addPerson({
      AddPersonRequest: { name: 'Una Subscribed', emails: [{ value: 'una@penguin.example', primary: true }] },
    });
    const id = added.data!.id!;
    expect(added.data).not.toHaveProperty('marketing_status');
    expect((await persons.getPerson({ id, include_fields: 'marketing_status' })).data).toMatchObject({
      marketing_status: 'no_consent',
    });

    await persons.updatePerson({ id, UpdatePersonRequest: { marketing_status: 'unsubscribed' } });
    expect((await persons.getPerson({ id })).data).not.toHaveProperty('marketing_status');
    expect((await persons.getPerson({ id, include_fields: 'marketing_status' })).data).toMatchObject({
      marketing_status: 'unsubscribed',
    });
    const listed = await persons.getPersons({ ids: String(id), include_fields: 'marketing_status' });
    expect(listed.data?.map((person) => (person as { marketing_status?: string }).marketing_status)).toEqual([
      'unsubscribed',
    ]);

    const refused = await rejection(
      persons.updatePerson({ id, UpdatePersonRequest: { marketing_status: 'maybe' as never } }),
    );
    expect(refused).toMatchObject({ success: false, error: expect.stringContaining('marketing_status') });
    expect(sandbox.persons.get(String(id))?.marketing_status).toBe('unsubscribed');
  });

  it('searches organizations by name, projects custom_fields, and seeds through the control API', async () => {
    const control = new SandboxControlClient(base);
    expect(await control.seed({ object: 'persons', count: 30, sameTimestamp: true })).toEqual({
      result: { created: 30 },
    });
    const { organizations, persons } = await connect();
    const someOrg = sandbox.records('organizations')[0];
    const found = await organizations.searchOrganization({
      term: String(someOrg.name),
      fields: 'name',
      exact_match: true,
    });
    expect(found.data!.items!.map((i) => i.item)).toEqual([
      expect.objectContaining({ id: someOrg.id, type: 'organization', name: someOrg.name }),
    ]);
    const linkedIn = sandbox.personFieldKey('LinkedIn profile');
    const projected = await persons.getPersons({ limit: 2, custom_fields: linkedIn });
    expect(projected.data!.map((p) => Object.keys(p.custom_fields!))).toEqual([[linkedIn], [linkedIn]]);
    expect(new Set(sandbox.records('persons').map((p) => p.update_time)).size).toBe(1);
  });

  it('never seeds persons that look older than the ones already there', () => {
    sandbox.clock.freeze('2025-06-01T12:00:00Z');
    sandbox.seedPersons(5);
    sandbox.clock.advance(2000);
    const second = sandbox.seedPersons(10);
    expect(second.map((p) => p.update_time)).toEqual([
      ...Array<string>(8).fill('2025-06-01T12:00:00Z'),
      '2025-06-01T12:00:01Z',
      '2025-06-01T12:00:02Z',
    ]);
  });

  it('logs activities linked to a person', async () => {
    const [person] = sandbox.seedPersons(1);
    const { activities } = await connect();
    const created = await activities.addActivity({
      AddActivityRequest: {
        subject: 'Email: Hello',
        type: 'email',
        person_id: person.id as number,
        due_date: '2025-03-01',
        done: true,
        note: 'Sent by PenguinMails',
      },
    });
    expect(created.data).toMatchObject({
      subject: 'Email: Hello',
      type: 'email',
      done: true,
      participants: [{ person_id: person.id, primary: true }],
    });
    const listed = await activities.getActivities({ person_id: person.id as number });
    expect(listed.data!.map((a) => a.id)).toEqual([created.data!.id]);
    const bad = await rejection(
      activities.addActivity({ AddActivityRequest: { subject: 'x', person_id: 999_999 } }),
    );
    expect(bad.error).toBe('Validation failed: person_id: Person 999999 not found');
  });

  it('serves person field metadata with 40-hex custom field keys, and adds custom fields', async () => {
    const { personFields } = await connect();
    const fields = await personFields.getPersonFields({ limit: 500 });
    const keys = fields.data!.map((f) => f.key);
    expect(keys).toEqual(expect.arrayContaining(['name', 'email', 'phone', 'org_id', 'owner_id']));
    const custom = fields.data!.filter((f) => /^[0-9a-f]{40}$/.test(f.key!));
    expect(custom.map((f) => f.name)).toEqual(['Lead source', 'LinkedIn profile']);
    expect(custom[0]).toMatchObject({
      field_type: 'enum',
      edit_flag: true,
      options: expect.arrayContaining([expect.objectContaining({ label: 'Referral' })]),
    });
    const added = await personFields.addPersonField({
      CreateFieldRequest: { name: 'PenguinMails status', field_type: 'varchar' },
    });
    expect(added.data!.key).toMatch(/^[0-9a-f]{40}$/);
    const [person] = sandbox.seedPersons(1);
    expect(person.custom_fields).toHaveProperty(added.data!.key!, null);
  });

  it('serves organization field metadata, adds a custom organization field, and carries it on v2 organizations', async () => {
    const { organizationFields, organizations } = await connect();
    const standard = await organizationFields.getOrganizationFields({ limit: 500 });
    expect(standard.data!.map((f) => f.key)).toEqual(
      expect.arrayContaining(['name', 'website', 'address', 'owner_id', 'employee_count']),
    );
    expect(standard.data!.find((f) => f.key === 'name')).toMatchObject({ mandatory_flag: true });
    const added = await organizationFields.addOrganizationField({
      CreateFieldRequest: {
        name: 'Tier',
        field_type: 'enum',
        options: [{ label: 'Gold' }, { label: 'Silver' }],
      },
    });
    const tier = added.data!.key!;
    expect(tier).toMatch(/^[0-9a-f]{40}$/);
    const listed = await organizationFields.getOrganizationFields({ limit: 500 });
    expect(listed.data!.find((f) => f.key === tier)).toMatchObject({
      name: 'Tier',
      field_type: 'enum',
      edit_flag: true,
      options: [expect.objectContaining({ label: 'Gold' }), expect.objectContaining({ label: 'Silver' })],
    });
    // Organization fields are a list of their own: the person fields do not gain it.
    expect(sandbox.personFields().map((f) => f.key)).not.toContain(tier);

    const created = await organizations.addOrganization({
      AddOrganizationRequest: { name: 'Tiered Ltd', custom_fields: { [tier]: 'Gold' } },
    });
    expect(created.data!.custom_fields).toEqual({ [tier]: 'Gold' });
    const id = created.data!.id!;
    await organizations.updateOrganization({
      id,
      UpdateOrganizationRequest: { website: 'https://tiered.example' },
    });
    // A PATCH without custom_fields keeps them; one with a key changes only that key.
    expect((await organizations.getOrganization({ id })).data!.custom_fields).toEqual({ [tier]: 'Gold' });
    await organizations.updateOrganization({
      id,
      UpdateOrganizationRequest: { custom_fields: { [tier]: 'Silver' } },
    });
    expect((await organizations.getOrganization({ id })).data!.custom_fields).toEqual({ [tier]: 'Silver' });
    const bad = await rejection(
      organizations.addOrganization({
        AddOrganizationRequest: { name: 'X', custom_fields: { ['f'.repeat(40)]: 1 } },
      }),
    );
    expect(bad.error).toContain(`custom_fields.${'f'.repeat(40)}: Unknown custom field`);
  });

  it('answers a 429 with Retry-After past the 2-second burst window, then lets the retry through', async () => {
    const { persons, token$ } = await connect();
    // The burst window on a clock the test moves, so honouring Retry-After is a step, not a wait.
    let nowMs = Date.now();
    sandbox.rateLimiter.configure(
      { limit: 2, windowMs: 1000, dailyLimit: 30_000, enforce: true, now: () => nowMs },
      true,
    );
    const headers = { authorization: `Bearer ${token$()}` };
    const first = await fetch(`${base}/api/v2/persons`, { headers });
    expect(first.headers.get('x-ratelimit-limit')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
    expect(first.headers.get('x-ratelimit-reset')).toBe('1');
    await fetch(`${base}/api/v2/persons`, { headers });
    const limited = await fetch(`${base}/api/v2/persons`, { headers });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toMatchObject({
      success: false,
      error: 'Request over limit',
      errorCode: 429,
      data: null,
    });
    expect(await rejection(persons.getPersons({}))).toMatchObject({ errorCode: 429 });
    nowMs += Number(limited.headers.get('retry-after')) * 1000 - 1;
    expect(await rejection(persons.getPersons({}))).toMatchObject({ errorCode: 429 });
    nowMs += 1;
    expect((await persons.getPersons({})).success).toBe(true);
  });

  it('refuses with 429 once the daily token budget is spent', async () => {
    const { persons } = await connect();
    sandbox.rateLimiter.configure({ limit: 80, windowMs: 2000, dailyLimit: 25, enforce: true }, true);
    await persons.getPersons({});
    await persons.getPersons({});
    const spent = await rejection(persons.getPersons({}));
    expect(spent).toMatchObject({ success: false, error: 'Daily API token budget exceeded', errorCode: 429 });
    // A single get costs 1 token, which still fits the remaining budget.
    expect((await rejection(persons.getPerson({ id: 1 }))).error).toBe('Person not found');
  });

  it('injected rate-limit storms answer with the Pipedrive 429 body and Retry-After', async () => {
    const { token$ } = await connect();
    sandbox.faults.rateLimitStorm(1, 3, { path: '/api/v2/persons' });
    const response = await fetch(`${base}/api/v2/persons`, {
      headers: { authorization: `Bearer ${token$()}` },
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(await response.json()).toMatchObject({ success: false, error: 'Request over limit', data: null });
  });

  it('refreshes after the access token expires mid-run; invalid_grant after revocation', async () => {
    sandbox.seedPersons(3);
    const { oauth2, persons, token$ } = await connect();
    const firstToken = token$();
    sandbox.faults.expireAccessTokens({ path: '/api/v2/persons', after: 1 });
    expect((await persons.getPersons({})).data).toHaveLength(3);
    const expired = await rejection(persons.getPersons({}));
    expect(expired).toMatchObject({ success: false, error: 'unauthorized access', errorCode: 401 });
    const refreshed = await oauth2.tokenRefresh();
    expect(refreshed.api_domain).toBe(base);
    expect(token$()).not.toBe(firstToken);
    expect((await persons.getPersons({})).data).toHaveLength(3);

    await oauth2.revokeToken('refresh_token');
    expect(await rejection(oauth2.tokenRefresh())).toMatchObject({ error: 'invalid_grant' });
    expect(await rejection(persons.getPersons({}))).toMatchObject({ errorCode: 401 });
    expect(sandbox.counters.snapshot().byRoute).toMatchObject({
      'GET /oauth/authorize': 1,
      'POST /oauth/authorize': 1,
      'POST /oauth/token': 3,
      'POST /oauth/revoke': 1,
      'GET /api/v2/persons': 4,
    });
  });

  it('accepts a personal API token in x-api-token', async () => {
    const ok = await fetch(`${base}/api/v2/organizations`, { headers: { 'x-api-token': sandbox.apiToken } });
    expect(ok.status).toBe(200);
    const bad = await fetch(`${base}/api/v2/organizations?api_token=wrong`);
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ success: false, error: 'unauthorized access', errorCode: 401 });
  });

  it('delivers v2.0 webhooks with HTTP Basic auth for API writes and edits made in the CRM', async () => {
    const received: Array<{ authorization?: string; body: Record<string, unknown> }> = [];
    const receiver = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        received.push({
          authorization: req.headers.authorization,
          body: JSON.parse(raw) as Record<string, unknown>,
        });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/pipedrive`;
      const { webhooks, persons } = await connect();
      const hook = await webhooks.addWebhook({
        AddWebhookRequest: {
          subscription_url: url,
          event_action: '*',
          event_object: 'person',
          name: 'sync',
          http_auth_user: 'pm',
          http_auth_password: 's3cret',
          version: '2.0',
        },
      });
      expect(hook.data).toMatchObject({
        subscription_url: url,
        event_action: '*',
        event_object: 'person',
        version: '2.0',
        is_active: 1,
      });
      expect((await webhooks.getWebhooks()).data).toHaveLength(1);

      const created = await persons.addPerson({
        AddPersonRequest: { name: 'Webhook Person', emails: [{ value: 'wh@x.example' }] },
      });
      sandbox.editInCrm('person', created.data!.id!, { name: 'Edited In Pipedrive' });
      await sandbox.webhooks.idle();
      expect(received).toHaveLength(2);
      expect(received[0].authorization).toBe(`Basic ${Buffer.from('pm:s3cret').toString('base64')}`);
      expect(received[0].body).toMatchObject({
        data: { id: created.data!.id, name: 'Webhook Person' },
        previous: null,
        meta: {
          action: 'create',
          entity: 'person',
          entity_id: String(created.data!.id),
          version: '2.0',
          change_source: 'api',
          attempt: 1,
          webhook_id: String(hook.data!.id),
        },
      });
      expect(received[1].body).toMatchObject({
        data: { name: 'Edited In Pipedrive' },
        previous: { name: 'Webhook Person', first_name: 'Webhook', last_name: 'Person' },
        meta: { action: 'change', change_source: 'app' },
      });

      await webhooks.deleteWebhook({ id: hook.data!.id! });
      expect((await webhooks.getWebhooks()).data).toEqual([]);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
