import { compareIds, readAllChanges } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  type CrmRecord,
  type CrmSession,
  type RateLimitObservation,
} from '@pm/integration-port';
import { crmFailure } from '@pm/integration-port/testing';
import { createPipedriveSandbox, type PipedriveSandbox } from '@pm/sandboxes';
import { PipedriveConnector } from '../src';
import { connectSession, REDIRECT_URI } from '../src/testing';

/**
 * What only Pipedrive has when reading: an opaque list cursor (thousands of persons sharing one update_time), its
 * error bodies and x-ratelimit-* headers, person field metadata. Writes, reads by id and activities have their own
 * suites beside this one.
 */

describe('Pipedrive connector against the Pipedrive sandbox', () => {
  let sandbox: PipedriveSandbox;
  let base: string;
  let connector: PipedriveConnector;
  let session: CrmSession;

  beforeAll(async () => {
    sandbox = createPipedriveSandbox({ redirectUris: [REDIRECT_URI], seed: 11 });
    base = await sandbox.start();
    connector = new PipedriveConnector({
      clientId: sandbox.oauth.clientId,
      clientSecret: sandbox.oauth.clientSecret,
      oauthBaseUrl: base,
      apiBaseUrl: base,
      // Generous, so a busy machine never fails a read; the timeout case uses an impatient connector of its own.
      requestTimeoutMs: 10_000,
      maxWriteBatch: 50,
      maxConcurrency: 4,
    });
    session = await connectSession(connector);
  });

  afterAll(() => sandbox.stop());

  beforeEach(() => {
    sandbox.reset({ clock: true });
  });

  describe('reading changes', () => {
    it('reads 3,000 persons sharing one update_time exactly once, in id order, and resumes inside the group', async () => {
      sandbox.clock.freeze('2026-03-01T09:00:00Z');
      sandbox.seedPersons(3000, { sameTimestamp: true, withOrganizations: false });
      sandbox.clock.reset();
      const pages: CrmRecord[][] = [];
      for await (const page of readAllChanges(connector, session, {
        object: 'persons',
        since: { modifiedAt: '2026-03-01T09:00:00Z' },
        pageSize: 500,
      })) {
        pages.push(page.records);
      }
      const ids = pages.flat().map((record) => record.id);
      expect(ids).toHaveLength(3000);
      expect(new Set(ids).size).toBe(3000);
      expect(ids).toEqual([...ids].sort(compareIds));
      expect(pages).toHaveLength(6);
      expect(sandbox.counters.count('GET /api/v2/persons')).toBe(6);

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
      const error = await crmFailure(
        connector.readChanges(session, {
          object: 'organizations',
          since: null,
          pageToken: first.nextPageToken,
        }),
      );
      expect(error.code).toBe(CrmErrorCode.VALIDATION_FAILED);
    });
  });

  describe('errors and rate limits', () => {
    it('maps 429 with Retry-After, the daily budget, 5xx, 401, timeouts, resets and aborts; no token in any message', async () => {
      const errors: CrmError[] = [];
      const read = (s: CrmSession = session) =>
        crmFailure(connector.readChanges(s, { object: 'persons', since: null }));

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

      const impatient = new PipedriveConnector({
        clientId: sandbox.oauth.clientId,
        clientSecret: sandbox.oauth.clientSecret,
        oauthBaseUrl: base,
        apiBaseUrl: base,
        requestTimeoutMs: 400,
      });
      sandbox.faults.hang(2_000, { path: '/api/v2/persons' });
      errors.push(await crmFailure(impatient.readChanges(session, { object: 'persons', since: null })));
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

      errors.push(await crmFailure(connector.describeObject(session, 'deals')));
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
      await crmFailure(connector.readChanges(observed, { object: 'persons', since: null }));
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

    it('describes a custom organization field with its type and options, and writes and reads it by its key', async () => {
      const tier = sandbox.addOrganizationField('Tier', 'enum', ['Gold', 'Silver']).key;
      const since = sandbox.addOrganizationField('Customer since', 'date').key;
      const fields = await connector.describeObject(session, 'organizations');
      const byName = new Map(fields.map((field) => [field.name, field]));
      expect(byName.get(tier)).toMatchObject({
        label: 'Tier',
        type: 'picklist',
        custom: true,
        readOnly: false,
      });
      expect(byName.get(tier)?.options?.map((option) => option.label)).toEqual(['Gold', 'Silver']);
      expect(byName.get(since)).toMatchObject({ type: 'date', custom: true });
      expect(byName.get('website')).toMatchObject({ type: 'string', custom: false, readOnly: false });
      expect(byName.get('update_time')).toMatchObject({ type: 'datetime', readOnly: true });

      const [created] = await connector.upsertBatch(session, {
        object: 'organizations',
        records: [{ key: 'k', fields: { name: 'Tiered Ltd', [since]: '2024-05-01' } }],
        createsMatched: true,
      });
      expect(created).toMatchObject({ ok: true, created: true });
      const crmId = (created as { crmId: string }).crmId;
      await connector.upsertBatch(session, {
        object: 'organizations',
        records: [{ key: 'k', crmId, fields: { [tier]: 'Gold' } }],
      });
      const [read] = await connector.getRecords(session, {
        object: 'organizations',
        ids: [crmId],
        fields: ['name', tier, since],
      });
      expect(read.fields).toEqual({ name: 'Tiered Ltd', [tier]: 'Gold', [since]: '2024-05-01' });
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
});
