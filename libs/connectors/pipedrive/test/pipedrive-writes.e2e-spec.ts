import { compareIds } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  type CrmSession,
  type RateLimitObservation,
  type UpsertInput,
} from '@pm/integration-port';
import { approveAuthorization, createPipedriveSandbox, type PipedriveSandbox } from '@pm/sandboxes';
import { PipedriveConnector } from '../src';
import { ForwardingProxy } from './forwarding-proxy';
import { connectSession, REDIRECT_URI } from './pipedrive-staging';

/**
 * Pipedrive writes and reads by id: no batch write (one request per record, one at a time inside one call), no
 * upsert (look up by e-mail before creating unless the caller matched the create, proven with lost responses), lists
 * by `ids=`, deletes one id at a time.
 */

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
    session = await connectSession(connector, approveAuthorization);
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

    it('deletes by id one request at a time, one result per id in order; gone ids are ok, a refusal fails alone', async () => {
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
      expect(sandbox.counters.maxInFlight()).toBe(1);
      expect(proxy.maxInFlight).toBe(1);
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
});
