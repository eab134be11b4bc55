import { compareIds } from '@pm/connector-kit';
import { CrmErrorCode, type CrmSession, type RateLimitObservation } from '@pm/integration-port';
import { crmFailure } from '@pm/integration-port/testing';
import { createPipedriveSandbox, type PipedriveSandbox } from '@pm/sandboxes';
import { PipedriveConnector } from '../src';
import { ForwardingProxy } from './forwarding-proxy';
import { connectSession, REDIRECT_URI } from '../src/testing';

/** Pipedrive reads and deletes by id: lists by `ids=` (100 a call), deletes one id at a time, one request in flight. */

describe('Pipedrive connector against the Pipedrive sandbox', () => {
  let sandbox: PipedriveSandbox;
  let base: string;
  let connector: PipedriveConnector;
  let session: CrmSession;
  let proxy: ForwardingProxy;
  let proxied: CrmSession;

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
      const limited = await crmFailure(
        connector.getRecords(session, { object: 'persons', ids: [String(person.id)] }),
      );
      expect(limited).toMatchObject({ code: CrmErrorCode.RATE_LIMITED, retryAfterMs: 2000 });
      expect((await crmFailure(connector.getRecords(session, { object: 'deals', ids: ['1'] }))).code).toBe(
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
      const limited = await crmFailure(connector.deleteRecords(session, { object: 'persons', ids }));
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
