import { createHmac } from 'node:crypto';
import { Connection, OAuth2, SfDate } from 'jsforce';
import { approveAuthorization } from '../kit/oauth-browser';
import { createSalesforceSandbox, SalesforceSandbox } from './index';

const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';
const VERSION = '59.0';

/**
 * sObject Collections report `statusCode` per error (REST API reference), while jsforce's SaveError type says
 * `errorCode` (what its one-request-per-record fallback builds). Read what the wire carries.
 */
function firstStatusCode(result: { success: boolean; errors?: unknown[] }): string | undefined {
  if (result.success) return undefined;
  return (result.errors?.[0] as { statusCode?: string } | undefined)?.statusCode;
}

interface ErrorWithCode {
  name: string;
  errorCode?: string;
  message: string;
}

async function failureOf(promise: PromiseLike<unknown>): Promise<ErrorWithCode> {
  try {
    await promise;
  } catch (error) {
    return error as ErrorWithCode;
  }
  throw new Error('expected the call to fail');
}

describe('Salesforce sandbox driven by jsforce', () => {
  let sandbox: SalesforceSandbox;
  let oauth2: OAuth2;
  let conn: Connection;

  function newOAuth2(options: { useVerifier?: boolean } = {}): OAuth2 {
    return new OAuth2({
      clientId: sandbox.oauth.clientId,
      clientSecret: sandbox.oauth.clientSecret,
      redirectUri: REDIRECT_URI,
      loginUrl: sandbox.loginUrl,
      ...options,
    });
  }

  /** The browser part of the web server flow: open the authorize page, press Allow, read the redirect. */
  async function authorizeInBrowser(client: OAuth2, state: string) {
    const redirect = await approveAuthorization(
      client.getAuthorizationUrl({ scope: 'api refresh_token', state }),
    );
    expect(redirect.url.origin + redirect.url.pathname).toBe(REDIRECT_URI);
    expect(redirect.state).toBe(state);
    return redirect;
  }

  async function connectThroughOAuth(): Promise<Connection> {
    const redirect = await authorizeInBrowser(oauth2, 'state-1');
    const tokens = await oauth2.requestToken(redirect.code as string);
    return new Connection({
      oauth2,
      instanceUrl: tokens.instance_url,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      version: VERSION,
    });
  }

  beforeAll(async () => {
    sandbox = createSalesforceSandbox({ clientId: 'test-client', clientSecret: 'test-secret' });
    await sandbox.start();
    oauth2 = newOAuth2();
    conn = await connectThroughOAuth();
  });

  afterAll(async () => {
    await sandbox.stop();
  });

  beforeEach(() => {
    sandbox.reset();
    sandbox.rateLimiter.configure({ dailyLimit: 15_000, enforce: false }, true);
  });

  it('runs the OAuth web server flow: consent page, code exchange with Salesforce token fields, identity', async () => {
    const redirect = await authorizeInBrowser(oauth2, 'xyz');
    expect(redirect.pageHtml).toContain('Allow');
    expect(redirect.pageHtml).toContain('api');
    const tokens = await oauth2.requestToken(redirect.code as string);

    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.instance_url).toBe(sandbox.baseUrl);
    expect(tokens.id).toBe(`${sandbox.loginUrl}/id/${sandbox.org.orgId}/${sandbox.org.userId}`);
    expect(sandbox.org.orgId).toMatch(/^00D[a-zA-Z0-9]{15}$/);
    expect(tokens.issued_at).toMatch(/^\d{13}$/);
    expect(tokens.scope).toBe('api refresh_token');
    expect(tokens.access_token.startsWith(`${sandbox.org.orgId.slice(0, 15)}!`)).toBe(true);
    expect(tokens.refresh_token).toBeTruthy();
    const expectedSignature = createHmac('sha256', 'test-secret')
      .update(tokens.id + tokens.issued_at)
      .digest('base64');
    expect(tokens.signature).toBe(expectedSignature);

    // A code is single-use.
    const replay = await failureOf(oauth2.requestToken(redirect.code as string));
    expect(replay.name).toBe('invalid_grant');

    const fresh = new Connection({ oauth2, version: VERSION });
    const userInfo = await fresh.authorize((await authorizeInBrowser(oauth2, 'state-2')).code as string);
    expect(userInfo).toMatchObject({ id: sandbox.org.userId, organizationId: sandbox.org.orgId });
    const identity = await fresh.identity();
    expect(identity).toMatchObject({
      user_id: sandbox.org.userId,
      organization_id: sandbox.org.orgId,
      username: 'admin@sandbox-org.example',
    });
    const userinfo = await fetch(`${sandbox.loginUrl}/services/oauth2/userinfo`, {
      headers: { authorization: `Bearer ${fresh.accessToken}` },
    });
    expect(await userinfo.json()).toMatchObject({
      user_id: sandbox.org.userId,
      organization_id: sandbox.org.orgId,
    });
  });

  it('supports PKCE the way jsforce sends it (S256 challenge without a method) and rejects a wrong verifier', async () => {
    const pkceClient = newOAuth2({ useVerifier: true });
    const redirect = await authorizeInBrowser(pkceClient, 'pkce');
    const tokens = await pkceClient.requestToken(redirect.code as string);
    expect(tokens.access_token).toBeTruthy();

    const other = newOAuth2({ useVerifier: true });
    const secondRedirect = await authorizeInBrowser(pkceClient, 'pkce-2');
    const failure = await failureOf(other.requestToken(secondRedirect.code as string));
    expect(failure.name).toBe('invalid_grant');
    expect(failure.message).toBe('invalid code verifier');
  });

  it('pages a query with nextRecordsUrl: batchSize header, queryMore, autoFetch over the 2,000 default', async () => {
    sandbox.seedContacts(2_100);

    const first = await conn.query('SELECT Id, Email FROM Contact ORDER BY Id', {
      headers: { 'Sforce-Query-Options': 'batchSize=200' },
    });
    expect(first.totalSize).toBe(2_100);
    expect(first.done).toBe(false);
    expect(first.records).toHaveLength(200);
    expect(first.records[0]).toMatchObject({
      attributes: {
        type: 'Contact',
        url: `/services/data/v${VERSION}/sobjects/Contact/${first.records[0].Id}`,
      },
    });
    expect(first.nextRecordsUrl).toMatch(
      new RegExp(`^${sandbox.baseUrl}/services/data/v${VERSION}/query/01g[A-Za-z0-9]+-200$`),
    );
    // The next page keeps the batch size the query asked for; its locator names the next offset.
    const second = await conn.queryMore(first.nextRecordsUrl as string);
    expect(second.records).toHaveLength(200);
    expect(second.done).toBe(false);
    expect(second.nextRecordsUrl).toMatch(/-400$/);
    const ids = [...first.records, ...second.records].map((record) => record.Id as string);
    expect(new Set(ids).size).toBe(400);
    expect(ids).toEqual([...ids].sort());

    sandbox.counters.reset();
    const all = await conn.query('SELECT Id FROM Contact', { autoFetch: true, maxFetch: 10_000 });
    expect(all.records).toHaveLength(2_100);
    expect(sandbox.counters.count('GET /services/data/:version/query')).toBe(1);
    expect(sandbox.counters.count('GET /services/data/:version/query/:locator')).toBe(1);
    expect(conn.limitInfo.apiUsage?.limit).toBe(15_000);
  });

  it('filters on SystemModstamp with ORDER BY: records staged with one timestamp, then edited in the CRM', async () => {
    sandbox.clock.freeze();
    sandbox.clock.set('2026-01-05T09:00:00Z');
    const staged = sandbox.seedContacts(30, { sameTimestamp: true });
    sandbox.clock.advance(60_000);
    const edited = sandbox.editInCrm('Contact', staged[7].id, { Title: 'Chief Penguin' });
    sandbox.deleteInCrm('Contact', staged[8].id);
    sandbox.clock.unfreeze();

    const changed = await conn.query(
      'SELECT Id, Title, SystemModstamp FROM Contact WHERE SystemModstamp > 2026-01-05T09:00:00.000+0000 ORDER BY SystemModstamp ASC, Id ASC',
    );
    expect(changed.records).toEqual([
      expect.objectContaining({
        Id: edited.id,
        Title: 'Chief Penguin',
        SystemModstamp: '2026-01-05T09:01:00.000+0000',
      }),
    ]);

    // Keyset paging through equal timestamps, as a connector does.
    const afterSeventh = await conn.query(
      `SELECT Id FROM Contact WHERE SystemModstamp = 2026-01-05T09:00:00Z AND Id > '${staged[6].id}' ORDER BY Id LIMIT 5`,
    );
    expect(afterSeventh.records.map((record) => record.Id)).toEqual(
      [staged[9], staged[10], staged[11], staged[12], staged[13]].map((record) => record.id),
    );

    const withDeleted = await conn.query(`SELECT Id, IsDeleted FROM Contact WHERE Id = '${staged[8].id}'`, {
      scanAll: true,
    });
    expect(withDeleted.records).toEqual([expect.objectContaining({ Id: staged[8].id, IsDeleted: true })]);
    const deletedFeed = await conn
      .sobject('Contact')
      .deleted(new Date('2026-01-05T08:00:00Z'), new Date('2026-01-05T10:00:00Z'));
    expect(deletedFeed.deletedRecords.map((record) => record.id)).toEqual([staged[8].id]);

    // The same question through jsforce's query builder (SfDate literal, sort, limit).
    const built = await conn
      .sobject('Contact')
      .find({ SystemModstamp: { $gte: SfDate.toDateTimeLiteral('2026-01-05T09:00:30Z') } }, ['Id', 'Title'])
      .sort({ SystemModstamp: 1, Id: 1 })
      .limit(10);
    expect(built.map((record) => record.Id)).toEqual([edited.id]);

    const updatedFeed = await conn
      .sobject('Contact')
      .updated(new Date('2026-01-05T09:00:30Z'), new Date('2026-01-05T10:00:00Z'));
    expect(updatedFeed.ids).toEqual([edited.id]);

    const malformed = await failureOf(conn.query('SELECT Id FROM Contact WHERE SystemModstamp >'));
    expect(malformed.errorCode).toBe('MALFORMED_QUERY');
    const quoted = await failureOf(
      conn.query("SELECT Id FROM Contact WHERE SystemModstamp > '2026-01-01T00:00:00Z'"),
    );
    expect(quoted.errorCode).toBe('INVALID_QUERY_FILTER_OPERATOR');
  });

  it('creates through sObject Collections with per-record results: bad records fail, the others succeed', async () => {
    sandbox.faults.recordErrors(
      { object: 'Contact', field: 'Email', equals: 'blocked@acme.example' },
      { message: 'Email domain is blocked by a validation rule', field: 'Email' },
    );
    const results = await conn.sobject('Contact').create([
      { FirstName: 'Ada', LastName: 'Lovelace', Email: 'ada@acme.example' },
      { FirstName: 'No', Email: 'no-last-name@acme.example' },
      { LastName: 'Bad Email', Email: 'not-an-email' },
      { LastName: 'Blocked', Email: 'blocked@acme.example' },
      { LastName: 'Hopper', Email: 'grace@acme.example' },
    ]);
    expect(sandbox.counters.count('POST /services/data/:version/composite/sobjects')).toBe(1);
    expect(results.map((result) => result.success)).toEqual([true, false, false, false, true]);
    expect(results[0].id).toMatch(/^003[a-zA-Z0-9]{15}$/);
    expect(results[1]).toEqual({
      success: false,
      errors: [
        {
          statusCode: 'REQUIRED_FIELD_MISSING',
          message: 'Required fields are missing: [LastName]',
          fields: ['LastName'],
        },
      ],
    });
    expect(results[2].success === false && results[2].errors[0]).toMatchObject({
      statusCode: 'INVALID_EMAIL_ADDRESS',
      fields: ['Email'],
    });
    expect(results[3].success === false && results[3].errors[0]).toEqual({
      statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      message: 'Email domain is blocked by a validation rule',
      fields: ['Email'],
    });
    expect(sandbox.records('Contact').map((record) => record.fields.LastName)).toEqual([
      'Lovelace',
      'Hopper',
    ]);

    const rolledBack = await conn
      .sobject('Contact')
      .create([{ LastName: 'Kept?' }, { FirstName: 'Missing last name' }], { allOrNone: true });
    expect(rolledBack.map(firstStatusCode)).toEqual([
      'ALL_OR_NONE_OPERATION_ROLLED_BACK',
      'REQUIRED_FIELD_MISSING',
    ]);
    expect(sandbox.records('Contact')).toHaveLength(2);

    const tooMany = Array.from({ length: 201 }, (_, index) => ({ LastName: `Bulk ${index}` }));
    const limitError = await failureOf(conn.sobject('Contact').create(tooMany));
    expect(limitError.errorCode).toBe('EXCEEDED_ID_LIMIT');

    const single = await failureOf(conn.sobject('Lead').create({ LastName: 'Lead without company' }));
    expect(single.errorCode).toBe('REQUIRED_FIELD_MISSING');
  });

  it('upserts by external id (collection and single) and reports duplicates', async () => {
    const first = await conn.sobject('Contact').upsert(
      [
        { PenguinMails_Id__c: 'pm-1', LastName: 'One', Email: 'one@acme.example' },
        { PenguinMails_Id__c: 'pm-2', LastName: 'Two', Email: 'two@acme.example' },
      ],
      'PenguinMails_Id__c',
    );
    expect(first.map((result) => [result.success, 'created' in result && result.created])).toEqual([
      [true, true],
      [true, true],
    ]);
    const second = await conn.sobject('Contact').upsert(
      [
        { PenguinMails_Id__c: 'pm-2', LastName: 'Two Updated' },
        { PenguinMails_Id__c: 'pm-3', LastName: 'Three' },
      ],
      'PenguinMails_Id__c',
    );
    expect(second.map((result) => 'created' in result && result.created)).toEqual([false, true]);
    expect(second[0].success && second[0].id).toBe(first[1].success && first[1].id);
    expect(sandbox.counters.count('PATCH /services/data/:version/composite/sobjects/:type/:field')).toBe(2);

    const singleResult = await conn
      .sobject('Contact')
      .upsert({ PenguinMails_Id__c: 'pm-1', Title: 'CTO' }, 'PenguinMails_Id__c');
    expect(singleResult.success).toBe(true);
    expect(sandbox.counters.count('PATCH /services/data/:version/sobjects/:type/:field/:value')).toBe(1);
    const record = await conn.sobject('Contact').retrieve(first[0].success ? (first[0].id as string) : '');
    expect(record).toMatchObject({ LastName: 'One', Title: 'CTO', PenguinMails_Id__c: 'pm-1' });

    const duplicate = await conn.sobject('Contact').create([{ LastName: 'Dup', PenguinMails_Id__c: 'PM-3' }]);
    expect(firstStatusCode(duplicate[0])).toBe('DUPLICATE_VALUE');

    const notExternal = await failureOf(
      conn.sobject('Contact').upsert({ Email: 'x@acme.example', LastName: 'X' }, 'Email'),
    );
    expect(notExternal.errorCode).toBe('NOT_FOUND');
  });

  it('describes objects with field metadata, including custom and external id fields', async () => {
    const contact = await conn.describe('Contact');
    expect(contact).toMatchObject({ name: 'Contact', keyPrefix: '003', createable: true });
    const field = (name: string) => contact.fields.find((candidate) => candidate.name === name);
    expect(field('LastName')).toMatchObject({
      type: 'string',
      nillable: false,
      createable: true,
      length: 80,
    });
    expect(field('Email')).toMatchObject({ type: 'email', nillable: true, updateable: true });
    expect(field('SystemModstamp')).toMatchObject({ type: 'datetime', createable: false, updateable: false });
    expect(field('PenguinMails_Id__c')).toMatchObject({ custom: true, externalId: true, unique: true });
    expect(field('LeadSource')?.picklistValues?.map((value: { value: string }) => value.value)).toContain(
      'Web',
    );
    expect(field('AccountId')).toMatchObject({
      type: 'reference',
      referenceTo: ['Account'],
      relationshipName: 'Account',
    });

    const global = await conn.describeGlobal();
    expect(global.sobjects.map((object) => [object.name, object.keyPrefix])).toEqual(
      expect.arrayContaining([
        ['Contact', '003'],
        ['Lead', '00Q'],
        ['Account', '001'],
        ['Task', '00T'],
        ['EmailMessage', '02s'],
      ]),
    );
    const versions = await conn.request<Array<{ version: string; url: string }>>('/services/data');
    expect(versions).toEqual(
      expect.arrayContaining([{ label: "Winter '24", url: '/services/data/v59.0', version: '59.0' }]),
    );
    const missing = await failureOf(conn.describe('Penguin__c'));
    expect(missing.errorCode).toBe('NOT_FOUND');
  });

  it('answers injected 429 storms with Retry-After (jsforce retries GETs itself) and 403 once the daily allocation is used', async () => {
    sandbox.seedContacts(3);
    sandbox.faults.rateLimitStorm(2, 1, { method: 'GET', path: '/services/data/:version/query' });
    const retried = await conn.query('SELECT Id FROM Contact');
    expect(retried.totalSize).toBe(3);
    expect(sandbox.counters.count('GET /services/data/:version/query')).toBe(3);

    // jsforce does not retry a POST: the caller sees the 429 and must honour Retry-After itself.
    sandbox.faults.rateLimitStorm(1, 1, {
      method: 'POST',
      path: '/services/data/:version/composite/sobjects',
    });
    const refused = await failureOf(conn.sobject('Contact').create([{ LastName: 'Later' }]));
    expect(refused.errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
    sandbox.faults.rateLimitStorm(1, 1, {
      method: 'POST',
      path: '/services/data/:version/composite/sobjects',
    });
    const raw = await fetch(`${sandbox.baseUrl}/services/data/v${VERSION}/composite/sobjects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${conn.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ records: [{ attributes: { type: 'Contact' }, LastName: 'Later' }] }),
    });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('1');
    // The storm was one answer long: the caller's retry (after its Retry-After pause) goes through.
    const afterWait = await conn.sobject('Contact').create([{ LastName: 'Later' }]);
    expect(afterWait[0].success).toBe(true);

    sandbox.rateLimiter.configure({ dailyLimit: 5, enforce: true }, true);
    await conn.query('SELECT Id FROM Contact');
    expect(conn.limitInfo.apiUsage).toEqual({ used: 1, limit: 5 });
    for (let call = 0; call < 4; call++) await conn.query('SELECT Id FROM Contact LIMIT 1');
    const exhausted = await failureOf(conn.query('SELECT Id FROM Contact'));
    expect(exhausted.errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
    const rawExhausted = await fetch(`${sandbox.baseUrl}/services/data/v${VERSION}/limits`, {
      headers: { authorization: `Bearer ${conn.accessToken}` },
    });
    expect(rawExhausted.status).toBe(403);
    expect(rawExhausted.headers.get('content-type')).toBe('application/json;charset=UTF-8');
    expect(rawExhausted.headers.get('sforce-limit-info')).toBe('api-usage=5/5');
  });

  it('refreshes an expired session: 401 INVALID_SESSION_ID, refresh event, the retried call succeeds', async () => {
    sandbox.seedContacts(2);
    const separate = await connectThroughOAuth();
    const oldToken = separate.accessToken;
    const refreshed: string[] = [];
    separate.on('refresh', (accessToken: string) => refreshed.push(accessToken));
    sandbox.counters.reset();

    sandbox.oauth.expireAllAccessTokens();
    const expired = await fetch(`${sandbox.baseUrl}/services/data/v${VERSION}/sobjects`, {
      headers: { authorization: `Bearer ${oldToken}` },
    });
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual([
      { message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' },
    ]);

    const result = await separate.query('SELECT Id FROM Contact');
    expect(result.totalSize).toBe(2);
    expect(refreshed).toHaveLength(1);
    expect(refreshed[0]).not.toBe(oldToken);
    expect(separate.accessToken).toBe(refreshed[0]);
    expect(separate.instanceUrl).toBe(sandbox.baseUrl);
    expect(sandbox.counters.count('POST /services/oauth2/token')).toBe(1);
    // The first query got the 401, the resend succeeded.
    expect(sandbox.counters.count('GET /services/data/:version/query')).toBe(2);
  });

  it('answers invalid_grant for a refresh token revoked through /services/oauth2/revoke', async () => {
    const separate = await connectThroughOAuth();
    const refreshToken = separate.refreshToken as string;
    await oauth2.revokeToken(refreshToken);
    expect(sandbox.counters.count('POST /services/oauth2/revoke')).toBe(1);

    const failure = await failureOf(oauth2.refreshToken(refreshToken));
    expect(failure.name).toBe('invalid_grant');
    expect(failure.message).toBe('expired access/refresh token');

    // Revoking the refresh token ends its sessions too: the next call's refresh fails the same way.
    const again = await failureOf(oauth2.revokeToken(refreshToken));
    expect(again.name).toBe('invalid_token');

    const call = await failureOf(separate.query('SELECT Id FROM Contact'));
    expect(call.message).toBe('Unable to refresh session due to: expired access/refresh token');
  });

  it('logs an email as a completed Task and an EmailMessage linked to the contact', async () => {
    const [contact] = sandbox.seedContacts(1);
    const task = await conn.sobject('Task').create({
      WhoId: contact.id,
      Subject: 'Email: Welcome',
      TaskSubtype: 'Email',
      Status: 'Completed',
      ActivityDate: '2026-01-05',
      Description: 'Hello from PenguinMails',
    });
    expect(task.success && task.id).toMatch(/^00T/);
    const message = await conn.sobject('EmailMessage').create({
      RelatedToId: contact.id,
      Subject: 'Welcome',
      TextBody: 'Hello from PenguinMails',
      FromAddress: 'team@penguinmails.example',
      ToAddress: String(contact.fields.Email),
      Incoming: false,
      Status: '3',
      MessageDate: '2026-01-05T09:00:00Z',
    });
    expect(message.success && message.id).toMatch(/^02s/);

    const tasks = await conn.query(
      `SELECT Id, Subject, IsClosed, Who.Name FROM Task WHERE WhoId = '${contact.id}'`,
    );
    expect(tasks.records).toEqual([
      expect.objectContaining({
        Subject: 'Email: Welcome',
        IsClosed: true,
        Who: expect.objectContaining({ Name: contact.fields.Name }),
      }),
    ]);
    const badWho = await failureOf(conn.sobject('Task').create({ WhoId: 'not-an-id', Subject: 'x' }));
    expect(badWho.errorCode).toBe('MALFORMED_ID');
  });

  it('counts every call by route for a small sync-like sequence', async () => {
    sandbox.seedContacts(5);
    // Earlier tests expire every session; let this connection refresh before counting.
    await conn.query('SELECT COUNT() FROM Contact');
    sandbox.counters.reset();
    await conn.describe('Contact');
    const page = await conn.query('SELECT Id, Email FROM Contact');
    const [first] = page.records;
    await conn.sobject('Contact').update({ Id: first.Id as string, Title: 'Updated' });
    await conn.sobject('Contact').update([{ Id: first.Id as string, Title: 'Again' }]);
    await conn.sobject('Contact').destroy(first.Id as string);
    const missing = await failureOf(conn.sobject('Contact').retrieve(first.Id as string));
    expect(missing.errorCode).toBe('ENTITY_IS_DELETED');

    expect(sandbox.counters.snapshot()).toEqual({
      total: 6,
      byRoute: {
        'DELETE /services/data/:version/sobjects/:type/:id': 1,
        'GET /services/data/:version/query': 1,
        'GET /services/data/:version/sobjects/:type/:id': 1,
        'GET /services/data/:version/sobjects/:type/describe': 1,
        'PATCH /services/data/:version/composite/sobjects': 1,
        'PATCH /services/data/:version/sobjects/:type/:id': 1,
      },
      inFlight: 0,
      // jsforce sends one request after another.
      maxInFlight: 1,
    });
  });
});
