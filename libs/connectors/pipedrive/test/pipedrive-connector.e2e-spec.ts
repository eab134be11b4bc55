import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { compareIds, readAllChanges } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  type CrmRecord,
  type CrmSession,
  type RateLimitObservation,
  type UpsertInput,
  type WebhookRequest,
} from '@pm/integration-port';
import { createPipedriveSandbox, type PipedriveSandbox } from '@pm/sandboxes';
import { PipedriveConnector } from '../src';
import { connectSession, REDIRECT_URI } from '../src/testing';

/**
 * What only Pipedrive has: no batch write (bounded concurrency inside one call), no upsert (look up by e-mail
 * before creating, proven with lost responses), an opaque list cursor (thousands of persons sharing one
 * update_time), its error bodies and x-ratelimit-* headers, activities on persons, and v2.0 webhooks with Basic auth.
 */

/** Between the connector and the sandbox: counts requests in flight, and can lose the answer to chosen requests. */
class ForwardingProxy {
  inFlight = 0;
  maxInFlight = 0;
  /** Requests whose answer is thrown away after the sandbox applied them (the client sees a reset). */
  private readonly losing: Array<(method: string, path: string) => boolean> = [];
  private server?: http.Server;

  constructor(private readonly target: string) {}

  loseResponseOf(matches: (method: string, path: string) => boolean): void {
    this.losing.push(matches);
  }

  resetCounts(): void {
    this.maxInFlight = 0;
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      const url = new URL(req.url ?? '/', this.target);
      const upstream = http.request(url, { method: req.method, headers: req.headers }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          this.inFlight--;
          const lose = this.losing.findIndex((matches) => matches(req.method ?? '', url.pathname));
          if (lose >= 0) {
            this.losing.splice(lose, 1);
            req.socket.destroy();
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(Buffer.concat(chunks));
        });
      });
      upstream.on('error', () => {
        this.inFlight--;
        req.socket.destroy();
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

async function failure(promise: Promise<unknown>): Promise<CrmError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CrmError) return error;
    throw error;
  }
  throw new Error('expected the call to fail with a CrmError');
}

function personInput(key: string, email: string, extra: Record<string, unknown> = {}): UpsertInput {
  return { key, fields: { email, first_name: 'Pat', last_name: `Penguin ${key}`, ...extra } };
}

describe('Pipedrive connector against the Pipedrive sandbox', () => {
  let sandbox: PipedriveSandbox;
  let base: string;
  let connector: PipedriveConnector;
  let session: CrmSession;
  let proxy: ForwardingProxy;
  let proxied: CrmSession;

  const personsWithEmail = (email: string) =>
    sandbox
      .records('persons')
      .filter((person) =>
        (person.emails as Array<{ value: string }>).some(
          (e) => e.value.toLowerCase() === email.toLowerCase(),
        ),
      );

  beforeAll(async () => {
    sandbox = createPipedriveSandbox({ redirectUris: [REDIRECT_URI], seed: 11 });
    base = await sandbox.start();
    connector = new PipedriveConnector({
      clientId: sandbox.oauth.clientId,
      clientSecret: sandbox.oauth.clientSecret,
      oauthBaseUrl: base,
      apiBaseUrl: base,
      requestTimeoutMs: 400,
      maxWriteBatch: 50,
      maxConcurrency: 4,
    });
    session = await connectSession(connector);
    proxy = new ForwardingProxy(base);
    proxied = { ...session, instanceUrl: await proxy.start() };
  });

  afterAll(async () => {
    await proxy.stop();
    await sandbox.stop();
  });

  beforeEach(() => {
    sandbox.reset({ clock: true });
    proxy.resetCounts();
  });

  describe('reading changes', () => {
    it('reads 3,000 persons sharing one update_time exactly once, in id order, and resumes inside the group', async () => {
      sandbox.clock.set('2026-03-01T09:00:00Z');
      sandbox.clock.freeze();
      sandbox.seedPersons(3000, { sameTimestamp: true, withOrganizations: false });
      sandbox.clock.reset();
      const started = Date.now();
      const pages: CrmRecord[][] = [];
      for await (const page of readAllChanges(connector, session, {
        object: 'persons',
        since: { modifiedAt: '2026-03-01T09:00:00Z' },
        pageSize: 500,
      })) {
        pages.push(page.records);
      }
      const elapsedMs = Date.now() - started;
      const ids = pages.flat().map((record) => record.id);
      expect(ids).toHaveLength(3000);
      expect(new Set(ids).size).toBe(3000);
      expect(ids).toEqual([...ids].sort(compareIds));
      expect(pages).toHaveLength(6);
      expect(sandbox.counters.count('GET /api/v2/persons')).toBe(6);
      expect(elapsedMs).toBeLessThan(5_000);

      // A run that stopped after the 1,234th person resumes from (instant, that id) and reads only the rest.
      const resumeAfter = ids[1233];
      const rest: string[] = [];
      for await (const page of readAllChanges(connector, session, {
        object: 'persons',
        since: { modifiedAt: '2026-03-01T09:00:00.000Z', lastId: resumeAfter },
        pageSize: 500,
      })) {
        rest.push(...page.records.map((record) => record.id));
      }
      expect(rest).toEqual(ids.slice(1234));
    });

    it('reads organizations and activities oldest first with their links as associations', async () => {
      const [person] = sandbox.seedPersons(1, { withOrganizations: true });
      sandbox.clock.advance(5_000);
      const activity = sandbox.createInCrm('activities', { subject: 'Call', person_id: person.id });
      const organizations = await connector.readChanges(session, { object: 'organizations', since: null });
      expect(organizations.records.map((record) => record.id)).toEqual([String(person.org_id)]);
      const activities = await connector.readChanges(session, { object: 'activities', since: null });
      expect(activities.records).toEqual([
        expect.objectContaining({
          id: String(activity.id),
          object: 'activities',
          fields: expect.objectContaining({ subject: 'Call' }),
          associations: { persons: [String(person.id)] },
        }),
      ]);
      const persons = await connector.readChanges(session, {
        object: 'persons',
        since: null,
        fields: ['email'],
      });
      expect(persons.records[0]).toMatchObject({
        fields: { email: (person.emails as Array<{ value: string }>)[0].value },
        associations: { organizations: [String(person.org_id)] },
      });
      expect(Object.keys(persons.records[0].fields)).toEqual(['email']);
    });

    it('refuses a page token from another read', async () => {
      sandbox.seedPersons(3, { withOrganizations: false });
      const first = await connector.readChanges(session, { object: 'persons', since: null, pageSize: 1 });
      expect(first.nextPageToken).toEqual(expect.any(String));
      const error = await failure(
        connector.readChanges(session, {
          object: 'organizations',
          since: null,
          pageToken: first.nextPageToken,
        }),
      );
      expect(error.code).toBe(CrmErrorCode.VALIDATION_FAILED);
    });
  });

  describe('writing without a batch endpoint', () => {
    it('upserts a full batch with bounded concurrency, one result per input in order; a bad record fails alone', async () => {
      sandbox.faults.recordErrors(
        { object: 'persons', field: 'emails', contains: 'bad@' },
        { message: 'Invalid email address', field: 'emails' },
      );
      // A little latency per write so that requests overlap and the bound is visible.
      sandbox.faults.latency(15, { method: 'POST', path: '/api/v2/persons', times: 50 });
      const inputs = Array.from({ length: 50 }, (_, i) =>
        personInput(`k${i}`, i === 17 ? 'bad@penguin.example' : `batch-${i}@penguin.example`),
      );
      const results = await connector.upsertBatch(proxied, { object: 'persons', records: inputs });
      expect(results.map((result) => result.key)).toEqual(inputs.map((input) => input.key));
      expect(results.filter((result) => result.ok)).toHaveLength(49);
      expect(results[17]).toEqual({
        key: 'k17',
        ok: false,
        error: {
          code: CrmErrorCode.VALIDATION_FAILED,
          message: 'Validation failed: emails: Invalid email address',
          field: 'email',
          crmCode: 'ERR_SCHEMA_VALIDATION_FAILED',
        },
      });
      expect(results[0]).toMatchObject({ ok: true, created: true, crmId: expect.stringMatching(/^\d+$/) });
      expect(proxy.maxInFlight).toBeLessThanOrEqual(4);
      expect(proxy.maxInFlight).toBeGreaterThanOrEqual(2);
      expect(sandbox.counters.count('POST /api/v2/persons')).toBe(50);
      expect(sandbox.counters.count('GET /api/v2/persons/search')).toBe(50);
      expect(sandbox.records('persons')).toHaveLength(49);

      const tooMany = [...inputs, personInput('k50', 'one-more@penguin.example')];
      expect(
        (await failure(connector.upsertBatch(session, { object: 'persons', records: tooMany }))).code,
      ).toBe(CrmErrorCode.VALIDATION_FAILED);
    });

    it('makes one person for two creates of the same e-mail in one batch', async () => {
      // Slow creates: without ordering, the second search would run before the first create landed.
      sandbox.faults.latency(50, { method: 'POST', path: '/api/v2/persons', times: 3 });
      const results = await connector.upsertBatch(session, {
        object: 'persons',
        records: [
          personInput('twin-1', 'Twin@penguin.example'),
          personInput('other', 'other@penguin.example'),
          personInput('twin-2', 'twin@PENGUIN.example', { job_title: 'Second' }),
        ],
      });
      const twins = personsWithEmail('twin@penguin.example');
      expect(twins).toHaveLength(1);
      expect(results[0]).toMatchObject({ ok: true, created: true, crmId: String(twins[0].id) });
      expect(results[2]).toMatchObject({ ok: true, created: false, crmId: String(twins[0].id) });
      expect(twins[0].job_title).toBe('Second');
    });

    it('updates by crmId keeping the other e-mails, and reports an unknown crmId as NOT_FOUND for that record only', async () => {
      const [person] = sandbox.seedPersons(1, { withOrganizations: false });
      sandbox.editInCrm('persons', person.id as number, {
        emails: [
          { value: 'primary@penguin.example', primary: true },
          { value: 'other@penguin.example', primary: false },
        ],
      });
      const results = await connector.upsertBatch(session, {
        object: 'persons',
        records: [
          {
            key: 'a',
            crmId: String(person.id),
            fields: { email: 'new-primary@penguin.example', job_title: 'CTO' },
          },
          { key: 'b', crmId: '999999', fields: { job_title: 'Nobody' } },
          { key: 'c', crmId: String(person.id), fields: { id: 5 } },
        ],
      });
      expect(results[0]).toMatchObject({ ok: true, created: false, crmId: String(person.id) });
      expect(results[1]).toMatchObject({
        ok: false,
        error: { code: CrmErrorCode.NOT_FOUND, message: 'Person not found' },
      });
      expect(results[2]).toMatchObject({
        ok: false,
        error: { code: CrmErrorCode.VALIDATION_FAILED, field: 'id' },
      });
      const stored = sandbox.records('persons')[0];
      expect(stored.job_title).toBe('CTO');
      expect(
        (stored.emails as Array<{ value: string; primary: boolean }>).map((e) => [e.value, e.primary]),
      ).toEqual([
        ['new-primary@penguin.example', true],
        ['other@penguin.example', false],
      ]);
    });

    it('never duplicates a create whose response was lost after Pipedrive applied it', async () => {
      proxy.loseResponseOf((method, path) => method === 'POST' && path === '/api/v2/persons');
      const input = personInput('lost', 'Lost.Response@penguin.example');
      const [first] = await connector.upsertBatch(proxied, { object: 'persons', records: [input] });
      expect(first).toMatchObject({ ok: false, error: { code: CrmErrorCode.CRM_UNAVAILABLE } });
      expect(personsWithEmail(input.fields.email as string)).toHaveLength(1);

      // The engine retries the record: the e-mail lookup finds the person the lost create made.
      const [retry] = await connector.upsertBatch(proxied, { object: 'persons', records: [input] });
      const made = personsWithEmail(input.fields.email as string);
      expect(made).toHaveLength(1);
      expect(retry).toEqual({
        key: 'lost',
        ok: true,
        created: false,
        crmId: String(made[0].id),
        modifiedAt: expect.any(String),
      });
      expect(sandbox.counters.count('POST /api/v2/persons')).toBe(1);
    });

    it('creates once when the connection drops before Pipedrive saw the create (sandbox dropConnection fault)', async () => {
      sandbox.faults.dropConnection({ method: 'POST', path: '/api/v2/persons' });
      const input = personInput('dropped', 'dropped@penguin.example');
      const [first] = await connector.upsertBatch(session, { object: 'persons', records: [input] });
      expect(first).toMatchObject({ ok: false, error: { code: CrmErrorCode.CRM_UNAVAILABLE } });
      expect(personsWithEmail('dropped@penguin.example')).toHaveLength(0);
      const [retry] = await connector.upsertBatch(session, { object: 'persons', records: [input] });
      expect(retry).toMatchObject({ ok: true, created: true });
      expect(personsWithEmail('dropped@penguin.example')).toHaveLength(1);
    });

    it('stops the batch on an account-level failure (429) instead of failing every record', async () => {
      // The first two e-mail searches pass, the third is refused: the call stops starting records and throws.
      sandbox.faults.rateLimitStorm(1, 2, { path: '/api/v2/persons/search', after: 2 });
      const inputs = Array.from({ length: 6 }, (_, i) =>
        personInput(`r${i}`, `limited-${i}@penguin.example`),
      );
      const error = await failure(connector.upsertBatch(session, { object: 'persons', records: inputs }));
      expect(error).toMatchObject({ code: CrmErrorCode.RATE_LIMITED, retryAfterMs: 2000, status: 429 });
      const createdBefore = sandbox.records('persons').length;
      expect(createdBefore).toBeGreaterThanOrEqual(2);
      expect(createdBefore).toBeLessThan(6);
      // Retrying the whole batch is safe: records created before the 429 are found by e-mail, not created again.
      const results = await connector.upsertBatch(session, { object: 'persons', records: inputs });
      expect(results.every((result) => result.ok)).toBe(true);
      expect(results.filter((result) => result.ok && !result.created)).toHaveLength(createdBefore);
      for (let i = 0; i < 6; i++) expect(personsWithEmail(`limited-${i}@penguin.example`)).toHaveLength(1);
    });
  });

  describe('errors and rate limits', () => {
    it('maps 429 with Retry-After, the daily budget, 5xx, 401, timeouts, resets and aborts; no token in any message', async () => {
      const errors: CrmError[] = [];
      const read = (s: CrmSession = session) =>
        failure(connector.readChanges(s, { object: 'persons', since: null }));

      sandbox.faults.rateLimitStorm(1, 3, { path: '/api/v2/persons' });
      errors.push(await read());
      expect(errors.at(-1)).toMatchObject({
        code: CrmErrorCode.RATE_LIMITED,
        status: 429,
        retryAfterMs: 3000,
        message: 'Request over limit',
      });

      sandbox.rateLimiter.configure({ limit: 80, windowMs: 2000, dailyLimit: 5, enforce: true }, true);
      errors.push(await read());
      expect(errors.at(-1)).toMatchObject({
        code: CrmErrorCode.QUOTA_EXHAUSTED,
        status: 429,
        message: 'Daily API token budget exceeded',
      });
      sandbox.rateLimiter.configure({ limit: 80, windowMs: 2000, dailyLimit: 30_000, enforce: false }, true);

      sandbox.faults.status(
        503,
        { success: false, error: 'Service unavailable', data: null },
        {},
        { path: '/api/v2/persons' },
      );
      errors.push(await read());
      expect(errors.at(-1)).toMatchObject({
        code: CrmErrorCode.CRM_UNAVAILABLE,
        status: 503,
        message: 'Service unavailable',
      });

      sandbox.faults.hang(2_000, { path: '/api/v2/persons' });
      errors.push(await read());
      expect(errors.at(-1)?.code).toBe(CrmErrorCode.TIMEOUT);

      sandbox.faults.dropConnection({ path: '/api/v2/persons' });
      errors.push(await read());
      expect(errors.at(-1)?.code).toBe(CrmErrorCode.CRM_UNAVAILABLE);

      const aborted = new AbortController();
      aborted.abort();
      errors.push(await read({ ...session, signal: aborted.signal }));
      expect(errors.at(-1)?.code).toBe(CrmErrorCode.ABORTED);

      errors.push(await read({ ...session, accessToken: 'not-a-token' }));
      expect(errors.at(-1)).toMatchObject({
        code: CrmErrorCode.AUTH_EXPIRED,
        status: 401,
        message: 'unauthorized access',
      });

      errors.push(await failure(connector.describeObject(session, 'deals')));
      expect(errors.at(-1)?.code).toBe(CrmErrorCode.VALIDATION_FAILED);

      for (const error of errors) {
        expect(error.provider).toBe('pipedrive');
        expect(error.message).not.toContain(session.accessToken);
        expect(error.message).not.toContain(sandbox.oauth.clientSecret);
      }
    });

    it('reports each response’s x-ratelimit-* headers, and Retry-After on a 429, to the session', async () => {
      const observations: RateLimitObservation[] = [];
      const observed = { ...session, onRateLimit: (o: RateLimitObservation) => observations.push(o) };
      await connector.readChanges(observed, { object: 'persons', since: null });
      await connector.readChanges(observed, { object: 'persons', since: null });
      expect(observations).toHaveLength(2);
      expect(observations[0]).toEqual({ windowLimit: 80, windowRemaining: 79, windowResetMs: 2000 });
      expect(observations[1].windowRemaining).toBe(78);
      sandbox.faults.rateLimitStorm(1, 4, { path: '/api/v2/persons' });
      await failure(connector.readChanges(observed, { object: 'persons', since: null }));
      expect(observations[2]).toMatchObject({ retryAfterMs: 4000 });
    });
  });

  describe('describe and find', () => {
    it('describes person fields with custom 40-hex keys, options, required and read-only flags', async () => {
      const fields = await connector.describeObject(session, 'persons');
      const byName = new Map(fields.map((field) => [field.name, field]));
      expect(byName.get('name')).toMatchObject({
        type: 'string',
        required: true,
        readOnly: false,
        custom: false,
      });
      expect(byName.get('email')).toMatchObject({ type: 'email', readOnly: false });
      expect(byName.get('update_time')).toMatchObject({ type: 'datetime', readOnly: true });
      expect(byName.get('id')).toMatchObject({ type: 'id', readOnly: true });
      const leadSource = byName.get(sandbox.personFieldKey('Lead source'));
      expect(leadSource).toMatchObject({
        label: 'Lead source',
        type: 'picklist',
        custom: true,
        readOnly: false,
      });
      expect(leadSource?.options?.map((option) => option.label)).toContain('Referral');
      const organizations = await connector.describeObject(session, 'organizations');
      expect(organizations.find((field) => field.name === 'name')).toMatchObject({ required: true });
    });

    it('finds persons by several e-mails with one search each and one batched read', async () => {
      const seeded = sandbox.seedPersons(5, { withOrganizations: false });
      const emails = seeded
        .slice(0, 3)
        .map((p) => (p.emails as Array<{ value: string }>)[0].value.toUpperCase());
      sandbox.counters.reset();
      const found = await connector.findByEmail(session, 'persons', [...emails, 'nobody@penguin.example']);
      expect(found.map((record) => record.id)).toEqual(seeded.slice(0, 3).map((p) => String(p.id)));
      expect(sandbox.counters.count('GET /api/v2/persons/search')).toBe(4);
      expect(sandbox.counters.count('GET /api/v2/persons')).toBe(1);
      expect(await connector.findByEmail(session, 'persons', [])).toEqual([]);
    });
  });

  describe('records by id', () => {
    it('gets records by id 100 a list call (ids=), unknown, deleted and malformed ids absent, in the order asked', async () => {
      const seeded = sandbox.seedPersons(240, { withOrganizations: true });
      const gone = seeded[7];
      sandbox.deleteInCrm('persons', gone.id as number);
      const asked = [
        ...seeded.slice(0, 120).map((p) => String(p.id)),
        '987654321',
        'not-an-id',
        ...seeded.slice(120).map((p) => String(p.id)),
        String(seeded[3].id),
      ].reverse();
      sandbox.counters.reset();
      const observations: RateLimitObservation[] = [];
      const records = await connector.getRecords(
        { ...proxied, onRateLimit: (o: RateLimitObservation) => observations.push(o) },
        { object: 'persons', ids: asked },
      );
      // Each live id once, where it was first asked (seeded[3] is asked first, and again later).
      const live = new Set(seeded.filter((p) => p !== gone).map((p) => String(p.id)));
      const expectedIds = [...new Set(asked)].filter((id) => live.has(id));
      expect(expectedIds[0]).toBe(String(seeded[3].id));
      expect(expectedIds).toHaveLength(239);
      expect(records.map((record) => record.id)).toEqual(expectedIds);
      // 241 unique well-formed ids (a deleted and an unknown one among them): three list calls of ≤ 100 ids.
      expect(sandbox.counters.count('GET /api/v2/persons')).toBe(3);
      expect(sandbox.counters.total()).toBe(3);
      expect(observations).toHaveLength(3);

      // The same shape as readChanges gives: modifiedAt, flat fields, links as associations.
      const [first] = seeded;
      const read = await connector.readChanges(session, { object: 'persons', since: null, pageSize: 1 });
      expect(records.find((record) => record.id === String(first.id))).toEqual(read.records[0]);
      expect(read.records[0]).toMatchObject({
        modifiedAt: expect.stringMatching(/Z$/),
        fields: { email: (first.emails as Array<{ value: string }>)[0].value },
        associations: { organizations: [String(first.org_id)] },
      });

      const [selected] = await connector.getRecords(session, {
        object: 'persons',
        ids: [String(first.id)],
        fields: ['email', 'first_name'],
      });
      expect(selected.fields).toEqual({
        email: (first.emails as Array<{ value: string }>)[0].value,
        first_name: first.first_name,
      });
      sandbox.counters.reset();
      expect(await connector.getRecords(session, { object: 'persons', ids: ['abc', ''] })).toEqual([]);
      expect(sandbox.counters.total()).toBe(0);
    });

    it('gets organizations and activities by id, and maps a refused read to the call’s error', async () => {
      const [person] = sandbox.seedPersons(1, { withOrganizations: true });
      const activity = sandbox.createInCrm('activities', { subject: 'Intro call', person_id: person.id });
      const organizations = await connector.getRecords(session, {
        object: 'organizations',
        ids: [String(person.org_id), '424242'],
      });
      expect(organizations.map((record) => [record.object, record.id])).toEqual([
        ['organizations', String(person.org_id)],
      ]);
      const activities = await connector.getRecords(session, {
        object: 'activities',
        ids: [String(activity.id)],
      });
      expect(activities).toEqual([
        expect.objectContaining({
          id: String(activity.id),
          fields: expect.objectContaining({ subject: 'Intro call' }),
          associations: { persons: [String(person.id)] },
        }),
      ]);

      sandbox.faults.rateLimitStorm(1, 2, { method: 'GET', path: '/api/v2/persons' });
      const limited = await failure(
        connector.getRecords(session, { object: 'persons', ids: [String(person.id)] }),
      );
      expect(limited).toMatchObject({ code: CrmErrorCode.RATE_LIMITED, retryAfterMs: 2000 });
      expect((await failure(connector.getRecords(session, { object: 'deals', ids: ['1'] }))).code).toBe(
        CrmErrorCode.VALIDATION_FAILED,
      );
    });

    it('deletes by id with bounded concurrency, one result per id in order; gone ids are ok, a refusal fails alone', async () => {
      const seeded = sandbox.seedPersons(12, { withOrganizations: false });
      const ids = seeded.map((p) => String(p.id));
      const [alreadyGone, refused] = [ids[2], ids[5]];
      sandbox.deleteInCrm('persons', alreadyGone);
      const since = { modifiedAt: seeded[0].update_time as string };
      sandbox.faults.status(
        400,
        {
          success: false,
          error: 'This person cannot be deleted',
          error_info: 'Please check developers.pipedrive.com for more information about Pipedrive API.',
          data: null,
        },
        {},
        { method: 'DELETE', path: `/api/v2/persons/${refused}` },
      );
      sandbox.faults.latency(15, { method: 'DELETE', path: '/api/v2/persons/:id', times: 12 });
      sandbox.counters.reset();
      const asked = [...ids, '987654321', ids[0]];
      const results = await connector.deleteRecords(proxied, { object: 'persons', ids: asked });

      expect(results.map((result) => result.id)).toEqual(asked);
      expect(results.filter((result) => !result.ok)).toEqual([
        {
          id: refused,
          ok: false,
          error: { code: CrmErrorCode.VALIDATION_FAILED, message: 'This person cannot be deleted' },
        },
      ]);
      expect(sandbox.counters.count('DELETE /api/v2/persons/:id')).toBe(asked.length);
      expect(proxy.maxInFlight).toBeLessThanOrEqual(4);
      expect(proxy.maxInFlight).toBeGreaterThanOrEqual(2);
      expect(sandbox.records('persons').map((p) => String(p.id))).toEqual([refused]);
      expect(
        sandbox
          .deletedRecords('persons')
          .map((t) => String(t.id))
          .sort(compareIds),
      ).toEqual(ids.filter((id) => id !== refused));

      // Pipedrive's lists leave deleted records out and report no deletions (capabilities: reportsDeletions false):
      // after the delete, readChanges and getRecords hold only the refused person.
      expect(connector.capabilities().objects.find((o) => o.name === 'persons')?.reportsDeletions).toBe(
        false,
      );
      const after = await connector.readChanges(session, { object: 'persons', since });
      expect(after.records.map((record) => record.id)).toEqual([refused]);
      expect(after.deleted).toEqual([]);
      expect((await connector.getRecords(session, { object: 'persons', ids })).map((r) => r.id)).toEqual([
        refused,
      ]);

      // Deleting again is a no-op that reports success.
      expect(await connector.deleteRecords(session, { object: 'persons', ids: ids.slice(0, 2) })).toEqual([
        { id: ids[0], ok: true },
        { id: ids[1], ok: true },
      ]);
    });

    it('stops deleting on an account-level failure (429) and throws it; retrying the call finishes the job', async () => {
      const ids = sandbox.seedPersons(8, { withOrganizations: false }).map((p) => String(p.id));
      sandbox.faults.rateLimitStorm(1, 3, { method: 'DELETE', path: '/api/v2/persons/:id', after: 2 });
      const limited = await failure(connector.deleteRecords(session, { object: 'persons', ids }));
      expect(limited).toMatchObject({ code: CrmErrorCode.RATE_LIMITED, status: 429, retryAfterMs: 3000 });
      const left = sandbox.records('persons').length;
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(6);
      const results = await connector.deleteRecords(session, { object: 'persons', ids });
      expect(results).toEqual(ids.map((id) => ({ id, ok: true })));
      expect(sandbox.records('persons')).toEqual([]);
    });
  });

  describe('activities', () => {
    it('logs e-mail activities on the person, once per activity key, and fails a bad target alone', async () => {
      const [person] = sandbox.seedPersons(1, { withOrganizations: true });
      const contact = { crmId: String(person.id), object: 'persons', email: 'x@penguin.example' };
      const inputs = [
        {
          key: '<msg-1@penguinmails.example>:sent',
          kind: 'email_sent' as const,
          occurredAt: '2026-03-02T10:15:00Z',
          subject: 'Hello',
          bodyText: 'Hi <there>',
          from: 'me@penguinmails.example',
          to: ['x@penguin.example'],
          contact,
          companyCrmId: String(person.org_id),
        },
        { key: 'msg-1:opened', kind: 'email_opened' as const, occurredAt: '2026-03-02T11:00:00Z', contact },
        {
          key: 'msg-2:sent',
          kind: 'email_sent' as const,
          occurredAt: '2026-03-02T11:00:00Z',
          contact: { crmId: '999999', object: 'persons', email: 'ghost@penguin.example' },
        },
      ];
      const first = await connector.logActivities(session, inputs);
      expect(first.map((result) => result.key)).toEqual(inputs.map((input) => input.key));
      expect(first[0]).toMatchObject({ ok: true, crmId: expect.any(String) });
      expect(first[1]).toMatchObject({ ok: true });
      expect(first[2]).toMatchObject({
        ok: false,
        error: {
          code: CrmErrorCode.VALIDATION_FAILED,
          message: 'Validation failed: person_id: Person 999999 not found',
        },
      });
      const logged = sandbox.records('activities');
      expect(logged).toHaveLength(2);
      expect(logged[0]).toMatchObject({
        subject: 'Hello',
        type: 'email',
        done: true,
        due_date: '2026-03-02',
        due_time: '10:15',
        person_id: person.id,
        org_id: person.org_id,
      });
      expect(logged[0].note).toContain('Hi &lt;there&gt;');
      expect(logged[1]).toMatchObject({ subject: 'E-mail opened' });

      // Redelivered: the same keys find their activities; nothing new is created.
      const again = await connector.logActivities(session, inputs.slice(0, 2));
      expect(again.map((result) => (result.ok ? result.crmId : undefined))).toEqual(
        first.slice(0, 2).map((result) => (result.ok ? result.crmId : undefined)),
      );
      expect(sandbox.records('activities')).toHaveLength(2);
    });
  });

  describe('webhooks', () => {
    it('subscribes a v2.0 webhook with Basic auth and parses what the sandbox delivers; wrong credentials are refused', async () => {
      const received: WebhookRequest[] = [];
      const receiver = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          received.push({
            method: req.method ?? 'POST',
            url: `http://127.0.0.1${req.url ?? '/'}`,
            headers: req.headers,
            rawBody: Buffer.concat(chunks),
            receivedAt: new Date(),
          });
          res.end('ok');
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/pipedrive`;
        const secrets = { username: 'penguinmails', secret: 'hook-password-1' };
        const webhookId = await connector.createWebhook(session, {
          subscriptionUrl: url,
          eventObject: 'person',
          eventAction: '*',
          username: secrets.username,
          password: secrets.secret,
        });
        const person = sandbox.createInCrm('persons', {
          name: 'Web Hook',
          emails: [{ value: 'wh@penguin.example' }],
        });
        sandbox.editInCrm('persons', person.id as number, { name: 'Webhook Edited' });
        sandbox.deleteInCrm('persons', person.id as number);
        await sandbox.webhooks.idle();
        expect(received).toHaveLength(3);
        const events = received.flatMap((request) => connector.parseWebhook(request, secrets));
        expect(events.map((event) => event.action)).toEqual(['created', 'updated', 'deleted']);
        expect(events[1]).toMatchObject({
          accountId: String(sandbox.companyId),
          object: 'persons',
          recordId: String(person.id),
          changedFields: expect.arrayContaining(['name', 'first_name', 'last_name']),
          eventId: expect.any(String),
        });
        const wrong = { ...secrets, secret: 'guessed' };
        expect(() => connector.parseWebhook(received[0], wrong)).toThrow(
          expect.objectContaining({ code: CrmErrorCode.INVALID_SIGNATURE }),
        );
        const unauthenticated = { ...received[0], headers: { 'content-type': 'application/json' } };
        expect(() => connector.parseWebhook(unauthenticated, secrets)).toThrow(
          expect.objectContaining({ code: CrmErrorCode.INVALID_SIGNATURE }),
        );
        await connector.deleteWebhook(session, webhookId);
        expect(sandbox.webhooks.subscriptions()).toEqual([]);
      } finally {
        await new Promise((resolve) => receiver.close(resolve));
      }
    });
  });
});
