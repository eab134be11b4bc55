import { CrmErrorCode, type CrmSession, type UpsertInput } from '@pm/integration-port';
import { crmFailure } from '@pm/integration-port/testing';
import { createPipedriveSandbox, type PipedriveSandbox } from '@pm/sandboxes';
import { PipedriveConnector } from '../src';
import { ForwardingProxy } from './forwarding-proxy';
import { connectSession, REDIRECT_URI } from '../src/testing';

/**
 * Pipedrive writes: no batch write (one request per record, one at a time inside one call), no upsert (look up by
 * e-mail before creating unless the caller matched the create, proven with lost responses).
 */

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
      // Generous: nothing here waits for a timeout, and a busy machine must not fail a write by one.
      requestTimeoutMs: 10_000,
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

  describe('writing without a batch endpoint', () => {
    it('upserts a full batch one request at a time (the engine owns concurrency), one result per input in order; a bad record fails alone', async () => {
      sandbox.faults.recordErrors(
        { object: 'persons', field: 'emails', contains: 'bad@' },
        { message: 'Invalid email address', field: 'emails' },
      );
      // A little latency per write, so that requests sent together would overlap at the sandbox.
      sandbox.faults.latency(15, { method: 'POST', path: '/api/v2/persons', times: 50 });
      sandbox.counters.reset();
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
      // The declared maxConcurrency (4 here) bounds port calls at once; inside one call requests never overlap.
      expect(sandbox.counters.maxInFlight()).toBe(1);
      expect(proxy.maxInFlight).toBe(1);
      expect(sandbox.counters.count('POST /api/v2/persons')).toBe(50);
      expect(sandbox.counters.count('GET /api/v2/persons/search')).toBe(50);
      expect(sandbox.records('persons')).toHaveLength(49);

      const tooMany = [...inputs, personInput('k50', 'one-more@penguin.example')];
      expect(
        (await crmFailure(connector.upsertBatch(session, { object: 'persons', records: tooMany }))).code,
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

    it('creates what the caller matched (createsMatched) with one request each and no search; one e-mail twice still makes one person', async () => {
      sandbox.faults.latency(15, { method: 'POST', path: '/api/v2/persons', times: 50 });
      sandbox.counters.reset();
      const inputs = [
        ...Array.from({ length: 48 }, (_, i) => personInput(`m${i}`, `matched-${i}@penguin.example`)),
        personInput('twin-1', 'Matched-Twin@penguin.example'),
        personInput('twin-2', 'matched-twin@PENGUIN.example', { job_title: 'Second' }),
      ];
      const results = await connector.upsertBatch(proxied, {
        object: 'persons',
        records: inputs,
        createsMatched: true,
      });
      expect(results.filter((result) => result.ok && result.created)).toHaveLength(49);
      const twins = personsWithEmail('matched-twin@penguin.example');
      expect(twins).toHaveLength(1);
      expect(results[49]).toMatchObject({ ok: true, created: false, crmId: String(twins[0].id) });
      expect(sandbox.counters.count('GET /api/v2/persons/search')).toBe(0);
      expect(sandbox.counters.count('POST /api/v2/persons')).toBe(49);
      expect(sandbox.counters.maxInFlight()).toBe(1);
      expect(proxy.maxInFlight).toBe(1);
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

    it('reads the persons its updates merge into with one list request, not a GET before each PATCH; both name parts need no read', async () => {
      const people = sandbox.seedPersons(5, { withOrganizations: false });
      for (const person of people) {
        sandbox.editInCrm('persons', person.id as number, {
          name: 'Ada Byron',
          emails: [
            { value: `first-${person.id}@penguin.example`, primary: true },
            { value: `kept-${person.id}@penguin.example`, primary: false },
          ],
        });
      }
      sandbox.counters.reset();
      const results = await connector.upsertBatch(session, {
        object: 'persons',
        records: [
          ...people.slice(0, 3).map((person) => ({
            key: `mail-${person.id}`,
            crmId: String(person.id),
            fields: { email: `new-${person.id}@penguin.example` },
          })),
          // One name part alone: the other is kept from the person as Pipedrive holds it.
          { key: 'last', crmId: String(people[3].id), fields: { last_name: 'Lovelace' } },
          // Both parts (as the engine sends them): nothing to read.
          { key: 'both', crmId: String(people[4].id), fields: { first_name: 'Augusta', last_name: 'King' } },
          { key: 'gone', crmId: '999999', fields: { email: 'nobody@penguin.example' } },
        ],
      });
      expect(results.map((result) => result.ok)).toEqual([true, true, true, true, true, false]);
      expect(results[5]).toMatchObject({
        error: { code: CrmErrorCode.NOT_FOUND, message: 'Person not found' },
      });
      const routes = sandbox.counters.snapshot().byRoute;
      // The list read (4 ids) and, for the id it did not return, that person's own 404.
      expect(routes['GET /api/v2/persons']).toBe(1);
      expect(routes['GET /api/v2/persons/:id']).toBe(1);
      expect(routes['PATCH /api/v2/persons/:id']).toBe(5);
      const stored = (id: unknown) => sandbox.records('persons').find((person) => person.id === id)!;
      expect((stored(people[0].id).emails as Array<{ value: string }>).map((e) => e.value)).toEqual([
        `new-${people[0].id}@penguin.example`,
        `kept-${people[0].id}@penguin.example`,
      ]);
      expect(stored(people[3].id)).toMatchObject({ first_name: 'Ada', last_name: 'Lovelace' });
      expect(stored(people[4].id)).toMatchObject({ first_name: 'Augusta', last_name: 'King' });
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
      const error = await crmFailure(connector.upsertBatch(session, { object: 'persons', records: inputs }));
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
});
