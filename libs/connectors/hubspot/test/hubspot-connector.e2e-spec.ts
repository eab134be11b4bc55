import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@hubspot/api-client';
import { compareByCursorPosition, cursorAfter, dropSeen, readAllChanges } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  type ChangePage,
  type CrmSession,
  type ReadChangesRequest,
  type UpsertInput,
} from '@pm/integration-port';
import { hubSpotRateLimitBody } from '@pm/sandboxes';
import { HubSpotConnector } from '@pm/connectors/hubspot';
import { startHubSpotTestBed, type HubSpotTestBed } from '../src/testing';

/** Every page of a read, as the engine's paginator drives it. */
async function readAll(
  port: HubSpotConnector,
  session: CrmSession,
  request: Omit<ReadChangesRequest, 'pageToken'>,
): Promise<ChangePage[]> {
  const pages: ChangePage[] = [];
  for await (const page of readAllChanges(port, session, request)) pages.push(page);
  return pages;
}

async function crmErrorOf(call: Promise<unknown>): Promise<CrmError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof CrmError) return error;
    throw error;
  }
  throw new Error('expected the call to fail with a CrmError');
}

function contactInput(key: string, email: string, extra: Record<string, unknown> = {}): UpsertInput {
  return { key, fields: { email, firstname: `First ${key}`, lastname: 'Penguin', ...extra } };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('HubSpot connector against the HubSpot sandbox', () => {
  let bed: HubSpotTestBed;
  let session: CrmSession;
  let connector: HubSpotConnector;
  const searches = () => bed.sandbox.counters.count('POST /crm/v3/objects/contacts/search');

  beforeAll(async () => {
    bed = await startHubSpotTestBed();
    session = await bed.session();
  });

  afterAll(() => bed.close());

  beforeEach(() => {
    bed.sandbox.reset();
    bed.observations.length = 0;
    // A fresh connector per test, so no test depends on what an earlier one left in its memory.
    connector = new HubSpotConnector(bed.config);
  });

  describe('reading changes', () => {
    it('reads 3,000 contacts sharing one timestamp exactly once, in id order, and resumes inside the group', async () => {
      const at = new Date(Date.now() - 3_600_000);
      const before = bed.sandbox.seedContacts(5, { at: new Date(at.getTime() - 10_000) });
      const group = bed.sandbox.seedContacts(3000, { sameTimestamp: true, at });
      const after = bed.sandbox.seedContacts(5, { at: new Date(at.getTime() + 10_000) });

      const pages = await readAll(connector, session, { object: 'contacts', since: null, pageSize: 200 });
      const records = pages.flatMap((page) => page.records);
      expect(records.map((record) => record.id)).toEqual(
        [...before, ...group, ...after].map((record) => record.id),
      );
      for (const page of pages) expect(page.records.length).toBeLessThanOrEqual(200);
      expect([...records].sort(compareByCursorPosition)).toEqual(records);
      // No search ever pages by offset: a first range page (5 earlier records; the group's part of it is re-read by
      // id), 15 full group pages, one empty group page that closes the group, and the range after it.
      expect(searches()).toBe(18);

      // A run stopped after the 1,234th record of the group resumes right after it.
      const stoppedAt = group[1233];
      const cursor = { modifiedAt: stoppedAt.updatedAt, lastId: stoppedAt.id };
      const resumed = dropSeen(
        (await readAll(connector, session, { object: 'contacts', since: cursor, pageSize: 200 })).flatMap(
          (page) => page.records,
        ),
        cursor,
      );
      expect(resumed.map((record) => record.id)).toEqual(
        [...group.slice(1234), ...after].map((record) => record.id),
      );
    });

    it('reads past the 10,000-result search cap without loss: 10,050 contacts at one instant and 300 after', async () => {
      const at = new Date(Date.now() - 7_200_000);
      const group = bed.sandbox.seedContacts(10_050, { sameTimestamp: true, at });
      const later = bed.sandbox.seedContacts(300, { at: new Date(at.getTime() + 60_000) });

      // The cap is real here: a plain search paged by offset is refused at 10,000.
      const sdk = new Client({
        accessToken: session.accessToken,
        basePath: bed.baseUrl,
        numberOfApiCallRetries: 0,
      });
      await expect(
        sdk.crm.contacts.searchApi.doSearch({
          filterGroups: [],
          sorts: ['lastmodifieddate'],
          limit: 200,
          after: '10000',
        }),
      ).rejects.toMatchObject({ code: 400 });

      const cursor = { modifiedAt: new Date(at.getTime() - 1000).toISOString() };
      const pages = await readAll(connector, session, { object: 'contacts', since: cursor, pageSize: 200 });
      const ids = pages.flatMap((page) => page.records.map((record) => record.id));
      expect(ids).toHaveLength(10_350);
      expect(ids).toEqual([...group, ...later].map((record) => record.id));
      expect(new Set(pages.map((page) => page.nextPageToken)).size).toBe(pages.length);
    }, 30_000);

    it('returns only later changes after a cursor, edits included, with the contact → company associations', async () => {
      const t0 = Date.now() - 600_000;
      const [first, second] = bed.sandbox.seedContacts(2, { at: new Date(t0) });
      const [company] = bed.sandbox.seedCompanies(1, { at: new Date(t0) });
      const cursor = cursorAfter(
        (await readAll(connector, session, { object: 'contacts', since: null })).flatMap(
          (page) => page.records,
        ),
        null,
      );
      bed.sandbox.editInCrm('contacts', first.id, { jobtitle: 'Chief Penguin' }, { at: new Date(t0 + 5000) });
      bed.sandbox.associateInCrm('contacts', first.id, 'companies', company.id);

      const fresh = dropSeen(
        (await readAll(connector, session, { object: 'contacts', since: cursor })).flatMap(
          (page) => page.records,
        ),
        cursor,
      );
      expect(fresh.map((record) => record.id)).toEqual([first.id]);
      expect(fresh[0].fields.jobtitle).toBe('Chief Penguin');
      expect(fresh[0].associations).toEqual({ companies: [company.id] });
      expect(fresh.map((record) => record.id)).not.toContain(second.id);
    });

    it('reads companies by hs_lastmodifieddate and reports companies moved to the recycle bin', async () => {
      const t0 = Date.now() - 600_000;
      const [kept, removed] = bed.sandbox.seedCompanies(2, { at: new Date(t0) });
      const since = { modifiedAt: new Date(t0).toISOString() };
      const first = await readAll(connector, session, { object: 'companies', since });
      expect(first.flatMap((page) => page.records.map((record) => record.id))).toEqual([kept.id, removed.id]);
      expect(first.flatMap((page) => page.records)[0]).toMatchObject({
        object: 'companies',
        fields: { name: kept.properties.name },
      });

      bed.sandbox.portal.archive('companies', removed.id, 'CRM_UI', new Date(t0 + 1000));
      const second = await readAll(connector, session, { object: 'companies', since });
      expect(second.flatMap((page) => page.records.map((record) => record.id))).toEqual([kept.id]);
      expect(second.flatMap((page) => page.deleted)).toEqual([
        { id: removed.id, object: 'companies', deletedAt: new Date(t0 + 1000).toISOString() },
      ]);
      expect(bed.sandbox.counters.count('POST /crm/v3/objects/companies/search')).toBe(2);
    });

    it('refuses a page token that belongs to another object', async () => {
      bed.sandbox.seedContacts(3);
      const [page] = await readAll(connector, session, { object: 'contacts', since: null, pageSize: 2 });
      const misuse = crmErrorOf(
        connector.readChanges(session, { object: 'companies', since: null, pageToken: page.nextPageToken }),
      );
      expect((await misuse).code).toBe(CrmErrorCode.VALIDATION_FAILED);
    });
  });

  describe('writing', () => {
    it('upserts 100 contacts in one batch call and refuses 101 without calling HubSpot', async () => {
      const inputs = Array.from({ length: 100 }, (_, i) => contactInput(`k${i}`, `batch-${i}@example.com`));
      const results = await connector.upsertBatch(session, { object: 'contacts', records: inputs });
      expect(results.map((result) => result.key)).toEqual(inputs.map((input) => input.key));
      expect(results.every((result) => result.ok && result.created)).toBe(true);
      expect(bed.sandbox.counters.count('POST /crm/v3/objects/contacts/batch/upsert')).toBe(1);
      expect(bed.sandbox.records('contacts')).toHaveLength(100);

      const tooMany = [...inputs, contactInput('k100', 'batch-100@example.com')];
      const refused = await crmErrorOf(
        connector.upsertBatch(session, { object: 'contacts', records: tooMany }),
      );
      expect(refused.code).toBe(CrmErrorCode.VALIDATION_FAILED);
      expect(bed.sandbox.counters.count('POST /crm/v3/objects/contacts/batch/upsert')).toBe(1);
    });

    it('fails a bad record alone with HubSpot message and field, updates by id and reports unknown ids', async () => {
      const [existing] = bed.sandbox.seedContacts(1);
      bed.sandbox.faults.recordErrors(
        { field: 'properties.email', equals: 'rejected@example.com' },
        {
          message: 'Email address rejected@example.com is blocked',
          field: 'properties.email',
          code: 'BLOCKED_EMAIL',
        },
      );
      const results = await connector.upsertBatch(session, {
        object: 'contacts',
        records: [
          contactInput('good', 'good@example.com'),
          contactInput('blocked', 'rejected@example.com'),
          { key: 'update', crmId: existing.id, fields: { jobtitle: 'Emperor' } },
          { key: 'ghost', crmId: '999999999', fields: { jobtitle: 'Nobody' } },
          contactInput('bad-option', 'option@example.com', { lifecyclestage: 'walrus' }),
        ],
      });
      expect(results[0]).toMatchObject({ key: 'good', ok: true, created: true });
      expect(results[1]).toMatchObject({
        key: 'blocked',
        ok: false,
        error: {
          code: CrmErrorCode.VALIDATION_FAILED,
          message: 'Email address rejected@example.com is blocked',
          field: 'email',
        },
      });
      expect(results[2]).toMatchObject({ key: 'update', ok: true, created: false, crmId: existing.id });
      expect(results[3]).toMatchObject({ key: 'ghost', ok: false, error: { code: CrmErrorCode.NOT_FOUND } });
      expect(results[4]).toMatchObject({
        key: 'bad-option',
        ok: false,
        error: { code: CrmErrorCode.VALIDATION_FAILED, field: 'lifecyclestage', crmCode: 'INVALID_OPTION' },
      });
      expect(bed.sandbox.record('contacts', existing.id)?.properties.jobtitle).toBe('Emperor');
    });

    it('isolates a bad record when HubSpot refuses the whole batch (400), by splitting it', async () => {
      const strict = await startHubSpotTestBed({ sandbox: { batchValidation: 'whole-batch' } });
      try {
        const strictSession = await strict.session();
        const inputs = Array.from({ length: 8 }, (_, i) => contactInput(`s${i}`, `strict-${i}@example.com`));
        inputs[5] = contactInput('s5', 'not-an-email');
        const results = await strict.connector.upsertBatch(strictSession, {
          object: 'contacts',
          records: inputs,
        });
        expect(results.map((result) => result.ok)).toEqual([true, true, true, true, true, false, true, true]);
        expect(results[5]).toMatchObject({
          ok: false,
          error: {
            code: CrmErrorCode.VALIDATION_FAILED,
            message: 'Email address not-an-email is invalid',
            field: 'email',
          },
        });
        expect(strict.sandbox.records('contacts')).toHaveLength(7);
        // 8 refused → 4 ok + 4 refused → 2 ok + 2 refused → 1 ok + 1 failing alone: seven calls.
        expect(strict.sandbox.counters.count('POST /crm/v3/objects/contacts/batch/upsert')).toBe(7);
      } finally {
        await strict.close();
      }
    });

    it('never duplicates a contact whose create timed out after HubSpot applied it, when the create is retried', async () => {
      const impatient = new HubSpotConnector({ ...bed.config, requestTimeoutMs: 300 });
      bed.sandbox.faults.hang(900, { method: 'POST', path: '/crm/v3/objects/contacts/batch/upsert' });
      const input = contactInput('lost', 'lost.answer@example.com');
      const timedOut = await crmErrorOf(
        impatient.upsertBatch(session, { object: 'contacts', records: [input] }),
      );
      expect(timedOut.code).toBe(CrmErrorCode.TIMEOUT);
      // HubSpot applies the create after our client gave up.
      for (let i = 0; i < 40 && bed.sandbox.records('contacts').length === 0; i++) await sleep(50);
      const [applied] = bed.sandbox.records('contacts');
      expect(applied.properties.email).toBe('lost.answer@example.com');

      const [retry] = await impatient.upsertBatch(session, { object: 'contacts', records: [input] });
      expect(retry).toMatchObject({ ok: true, created: false, crmId: applied.id });
      expect(bed.sandbox.records('contacts')).toHaveLength(1);
    });

    it('never duplicates a contact when the connection drops and the create is retried', async () => {
      bed.sandbox.faults.dropConnection({ method: 'POST', path: '/crm/v3/objects/contacts/batch/upsert' });
      const input = contactInput('dropped', 'Dropped.Connection@Example.com');
      const dropped = await crmErrorOf(
        connector.upsertBatch(session, { object: 'contacts', records: [input] }),
      );
      expect(dropped.code).toBe(CrmErrorCode.CRM_UNAVAILABLE);
      const [first] = await connector.upsertBatch(session, { object: 'contacts', records: [input] });
      const [again] = await connector.upsertBatch(session, { object: 'contacts', records: [input] });
      expect(first).toMatchObject({ ok: true, created: true });
      expect(again).toMatchObject({ ok: true, created: false, crmId: first.ok ? first.crmId : '' });
      expect(bed.sandbox.records('contacts')).toHaveLength(1);
      const found = await connector.findByEmail(session, 'contacts', ['dropped.connection@example.com']);
      expect(found.map((record) => record.id)).toEqual([first.ok ? first.crmId : '']);
    });

    it('fails the second of two inputs with one e-mail as a duplicate instead of refusing the batch', async () => {
      const results = await connector.upsertBatch(session, {
        object: 'contacts',
        records: [contactInput('a', 'twice@example.com'), contactInput('b', 'TWICE@example.com')],
      });
      expect(results[0]).toMatchObject({ ok: true, created: true });
      expect(results[1]).toMatchObject({
        ok: false,
        error: { code: CrmErrorCode.DUPLICATE, field: 'email' },
      });
    });
  });

  describe('records by id', () => {
    const batchReads = () => bed.sandbox.counters.count('POST /crm/v3/objects/contacts/batch/read');
    const batchArchives = () => bed.sandbox.counters.count('POST /crm/v3/objects/contacts/batch/archive');

    it('gets 250 contacts in three batch reads of at most 100, in the order asked, with associations; unknown and archived ids are absent', async () => {
      const contacts = bed.sandbox.seedContacts(251);
      const archived = contacts.pop() as (typeof contacts)[number];
      bed.sandbox.portal.archive('contacts', archived.id, 'CRM_UI');
      const [company] = bed.sandbox.seedCompanies(1);
      bed.sandbox.associateInCrm('contacts', contacts[120].id, 'companies', company.id);
      const wanted = [...contacts].reverse().map((contact) => contact.id);
      // Unknown, archived and repeated ids: 252 distinct ids, so three calls.
      const ids = [...wanted.slice(0, 60), '999999999', archived.id, ...wanted.slice(60), wanted[0]];

      const records = await connector.getRecords(session, { object: 'contacts', ids });
      expect(records.map((record) => record.id)).toEqual(wanted);
      expect(batchReads()).toBe(3);
      const linked = records.find((record) => record.id === contacts[120].id);
      expect(linked).toMatchObject({
        object: 'contacts',
        modifiedAt: contacts[120].updatedAt,
        fields: { email: contacts[120].properties.email },
        associations: { companies: [company.id] },
      });
      expect(records.find((record) => record.id === contacts[0].id)?.associations).toEqual({ companies: [] });

      const [named] = await connector.getRecords(session, {
        object: 'companies',
        ids: [company.id],
        fields: ['name'],
      });
      expect(named).toMatchObject({
        id: company.id,
        object: 'companies',
        fields: { name: company.properties.name },
      });
      expect(named.fields).not.toHaveProperty('domain');
    });

    it('deletes 150 contacts in two batch archives, idempotently, and readChanges then reports them deleted', async () => {
      const t0 = Date.now() - 600_000;
      const contacts = bed.sandbox.seedContacts(150, { at: new Date(t0) });
      const since = { modifiedAt: new Date(t0).toISOString() };
      const ids = contacts.map((contact) => contact.id);

      const results = await connector.deleteRecords(session, {
        object: 'contacts',
        ids: [...ids, '999999999'],
      });
      expect(results).toEqual([...ids, '999999999'].map((id) => ({ id, ok: true })));
      expect(batchArchives()).toBe(2);
      expect(bed.sandbox.records('contacts')).toEqual([]);
      expect(
        bed.sandbox
          .archivedRecords('contacts')
          .map((record) => record.id)
          .sort(),
      ).toEqual([...ids].sort());

      const again = await connector.deleteRecords(session, { object: 'contacts', ids: ids.slice(0, 3) });
      expect(again).toEqual(ids.slice(0, 3).map((id) => ({ id, ok: true })));

      const pages = await readAll(connector, session, { object: 'contacts', since });
      expect(pages.flatMap((page) => page.records)).toEqual([]);
      const deleted = pages.flatMap((page) => page.deleted);
      expect(deleted.map((entry) => entry.id).sort()).toEqual([...ids].sort());
      expect(deleted[0]).toMatchObject({ object: 'contacts', deletedAt: expect.stringMatching(/Z$/) });
    });

    it('fails an id HubSpot refuses to archive alone with its message, by splitting the batch', async () => {
      const ids = bed.sandbox.seedContacts(4).map((contact) => contact.id);
      // HubSpot refuses a batch whole (400) for one id it will not archive; here: the first id, three times over.
      bed.sandbox.faults.status(
        400,
        { status: 'error', message: 'This record cannot be archived', category: 'VALIDATION_ERROR' },
        {},
        { path: '/crm/v3/objects/contacts/batch/archive', times: 3 },
      );
      const results = await connector.deleteRecords(session, { object: 'contacts', ids });
      expect(results).toEqual([
        {
          id: ids[0],
          ok: false,
          error: {
            code: CrmErrorCode.VALIDATION_FAILED,
            message: 'This record cannot be archived',
            crmCode: 'VALIDATION_ERROR',
          },
        },
        ...ids.slice(1).map((id) => ({ id, ok: true })),
      ]);
      // [4] refused → [2] refused → [1] refused alone, [1] archived, [2] archived: five calls.
      expect(batchArchives()).toBe(5);
      expect(bed.sandbox.records('contacts').map((record) => record.id)).toEqual([ids[0]]);
    });

    it('fails the whole call on a 429 without retrying, for getRecords and deleteRecords alike', async () => {
      const [contact] = bed.sandbox.seedContacts(1);
      bed.sandbox.faults.rateLimitStorm(1, 3, { path: '/crm/v3/objects/contacts/batch/archive' });
      const refused = await crmErrorOf(
        connector.deleteRecords(session, { object: 'contacts', ids: [contact.id] }),
      );
      expect(refused).toMatchObject({ code: CrmErrorCode.RATE_LIMITED, retryAfterMs: 3000 });
      expect(batchArchives()).toBe(1);
      expect(bed.sandbox.record('contacts', contact.id)).toBeDefined();

      bed.sandbox.faults.rateLimitStorm(1, 3, { path: '/crm/v3/objects/contacts/batch/read' });
      const unread = await crmErrorOf(
        connector.getRecords(session, { object: 'contacts', ids: [contact.id] }),
      );
      expect(unread).toMatchObject({ code: CrmErrorCode.RATE_LIMITED, retryAfterMs: 3000 });
      expect(batchReads()).toBe(1);
      expect(bed.observations).toContainEqual(expect.objectContaining({ retryAfterMs: 3000 }));
    });
  });

  describe('errors and rate limits', () => {
    it('maps a 429 with Retry-After to RATE_LIMITED, reports it, and never retries by itself', async () => {
      bed.sandbox.faults.rateLimitStorm(1, 7, { path: '/crm/v3/objects/contacts/batch/read' });
      const error = await crmErrorOf(connector.findByEmail(session, 'contacts', ['a@example.com']));
      expect(error).toMatchObject({ code: CrmErrorCode.RATE_LIMITED, status: 429, retryAfterMs: 7000 });
      expect(error.message).toBe('You have reached your ten_secondly_rolling limit.');
      expect(bed.sandbox.counters.count('POST /crm/v3/objects/contacts/batch/read')).toBe(1);
      expect(bed.observations).toContainEqual(
        expect.objectContaining({ retryAfterMs: 7000, windowRemaining: 0 }),
      );
    });

    it('maps the daily 429 to QUOTA_EXHAUSTED', async () => {
      bed.sandbox.faults.status(
        429,
        hubSpotRateLimitBody('DAILY'),
        {},
        { path: '/crm/v3/objects/contacts/batch/read' },
      );
      const error = await crmErrorOf(connector.findByEmail(session, 'contacts', ['a@example.com']));
      expect(error).toMatchObject({ code: CrmErrorCode.QUOTA_EXHAUSTED, status: 429 });
    });

    it('maps 5xx to CRM_UNAVAILABLE, a client timeout to TIMEOUT and an expired token to AUTH_EXPIRED', async () => {
      bed.sandbox.faults.status(503, {
        status: 'error',
        message: 'Service Unavailable',
        category: 'INTERNAL_ERROR',
      });
      const unavailable = await crmErrorOf(connector.describeObject(session, 'contacts'));
      expect(unavailable).toMatchObject({
        code: CrmErrorCode.CRM_UNAVAILABLE,
        status: 503,
        message: 'Service Unavailable',
      });

      bed.sandbox.faults.hang(600, { path: '/crm/v3/properties/:objectType' });
      const impatient = new HubSpotConnector({ ...bed.config, requestTimeoutMs: 150 });
      expect((await crmErrorOf(impatient.describeObject(session, 'contacts'))).code).toBe(
        CrmErrorCode.TIMEOUT,
      );

      const own = await bed.connect();
      bed.sandbox.oauth.expireAllAccessTokens();
      const expired = await crmErrorOf(connector.describeObject(own, 'contacts'));
      expect(expired).toMatchObject({ code: CrmErrorCode.AUTH_EXPIRED, status: 401 });
      expect(expired.message).not.toContain(own.accessToken);
      // The vault's refresh then gets a working token.
      const tokens = await bed.connect();
      expect((await connector.describeObject(tokens, 'contacts')).length).toBeGreaterThan(0);
      session = await bed.connect();
    });

    it('reports the X-HubSpot-RateLimit headers of every response to the session', async () => {
      await connector.describeObject(session, 'contacts');
      expect(bed.observations).toEqual([
        { windowLimit: 110, windowRemaining: expect.any(Number), windowMs: 10_000 },
      ]);
    });

    it('describes custom properties with type, read-only flag and options', async () => {
      const sdk = new Client({ accessToken: session.accessToken, basePath: bed.baseUrl });
      await sdk.crm.properties.coreApi.create('contacts', {
        name: 'penguin_colony',
        label: 'Penguin colony',
        type: 'enumeration' as never,
        fieldType: 'select' as never,
        groupName: 'contactinformation',
        options: [
          { label: 'Adélie', value: 'adelie', displayOrder: 0, hidden: false },
          { label: 'Emperor', value: 'emperor', displayOrder: 1, hidden: false },
        ],
      });
      const fields = await connector.describeObject(session, 'contacts');
      const byName = new Map(fields.map((field) => [field.name, field]));
      expect(byName.get('penguin_colony')).toEqual({
        name: 'penguin_colony',
        label: 'Penguin colony',
        type: 'picklist',
        crmType: 'enumeration/select',
        required: false,
        readOnly: false,
        custom: true,
        options: [
          { value: 'adelie', label: 'Adélie' },
          { value: 'emperor', label: 'Emperor' },
        ],
      });
      expect(byName.get('email')).toMatchObject({ type: 'email', custom: false, readOnly: false });
      expect(byName.get('lastmodifieddate')).toMatchObject({ type: 'datetime', readOnly: true });
      expect(
        (await connector.describeObject(session, 'emails')).find((f) => f.name === 'hs_timestamp'),
      ).toMatchObject({
        required: true,
      });
    });
  });

  describe('activities', () => {
    it('logs emails associated to the contact, once per activity key even when delivered again', async () => {
      const [contact] = bed.sandbox.seedContacts(1);
      const [company] = bed.sandbox.seedCompanies(1);
      const activity = {
        key: 'msg-1:sent',
        kind: 'email_sent' as const,
        occurredAt: '2026-11-20T10:00:00.000Z',
        subject: 'Hello from PenguinMails',
        bodyText: 'Fish?',
        from: 'sender@penguinmails.example',
        to: [contact.properties.email],
        contact: { crmId: contact.id, object: 'contacts', email: contact.properties.email },
        companyCrmId: company.id,
      };
      const orphan = {
        ...activity,
        key: 'msg-2:sent',
        contact: { ...activity.contact, crmId: '424242' },
        companyCrmId: undefined,
      };
      const [logged, failed] = await connector.logActivities(session, [activity, orphan]);
      expect(logged).toMatchObject({ key: 'msg-1:sent', ok: true, crmId: expect.any(String) });
      expect(failed).toMatchObject({
        key: 'msg-2:sent',
        ok: false,
        error: { code: CrmErrorCode.VALIDATION_FAILED },
      });
      const emailId = logged.ok ? logged.crmId : '';
      expect(bed.sandbox.record('emails', emailId)?.properties).toMatchObject({
        hs_email_subject: 'Hello from PenguinMails',
        hs_email_direction: 'EMAIL',
        hs_email_status: 'SENT',
        hs_timestamp: '2026-11-20T10:00:00.000Z',
        penguinmails_activity_key: 'msg-1:sent',
      });
      expect(
        bed.sandbox.portal.associations.list('emails', emailId, 'contacts').map((edge) => edge.toId),
      ).toEqual([contact.id]);
      expect(
        bed.sandbox.portal.associations.list('emails', emailId, 'companies').map((edge) => edge.toId),
      ).toEqual([company.id]);

      // Redelivered (and once more inside the same call): still one engagement, same id.
      const again = await connector.logActivities(session, [activity, activity]);
      expect(again).toEqual([
        { key: 'msg-1:sent', ok: true, crmId: emailId },
        { key: 'msg-1:sent', ok: true, crmId: emailId },
      ]);
      expect(bed.sandbox.records('emails')).toHaveLength(1);
      // The key property is created once per account.
      expect(bed.sandbox.counters.count('POST /crm/v3/properties/:objectType')).toBe(1);

      // Someone deletes the property in HubSpot (here: a sandbox reset): the failed call makes the next one recreate it.
      bed.sandbox.reset();
      const [fresh] = bed.sandbox.seedContacts(1);
      const target = {
        ...activity,
        key: 'msg-3:sent',
        contact: { ...activity.contact, crmId: fresh.id },
        companyCrmId: undefined,
      };
      await expect(connector.logActivities(session, [target])).rejects.toMatchObject({
        code: CrmErrorCode.VALIDATION_FAILED,
      });
      expect(await connector.logActivities(session, [target])).toEqual([
        { key: 'msg-3:sent', ok: true, crmId: expect.any(String) },
      ]);

      // The engagement reads back as an activity with its contact association.
      const [emailPage] = await readAll(connector, session, { object: 'emails', since: null });
      expect(emailPage.records).toEqual([
        expect.objectContaining({
          id: emailId,
          object: 'emails',
          fields: expect.objectContaining({ hs_email_subject: 'Hello from PenguinMails' }),
          associations: { contacts: [contact.id] },
        }),
      ]);
    });
  });

  describe('webhooks', () => {
    it('verifies and maps a change notification the sandbox really sent; refuses it when stale or forged', async () => {
      const received: Array<{ url: string; headers: http.IncomingHttpHeaders; body: Buffer }> = [];
      const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          received.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/hubspot`;
      try {
        bed.sandbox.subscribeWebhooks(url, ['contact.propertyChange']);
        const [contact] = bed.sandbox.seedContacts(1);
        bed.sandbox.editInCrm('contacts', contact.id, { jobtitle: 'Rockhopper' });
        await bed.sandbox.flushWebhooks();
        expect(received).toHaveLength(1);
        const request = {
          method: 'POST',
          url,
          headers: received[0].headers,
          rawBody: received[0].body,
          receivedAt: new Date(),
        };
        const secrets = { secret: bed.sandbox.oauth.clientSecret };
        expect(connector.parseWebhook(request, secrets)).toEqual([
          expect.objectContaining({
            accountId: String(bed.sandbox.portalId),
            object: 'contacts',
            recordId: contact.id,
            action: 'updated',
            changedFields: ['jobtitle'],
          }),
        ]);
        const stale = { ...request, receivedAt: new Date(Date.now() + 5 * 60_000 + 1000) };
        expect(() => connector.parseWebhook(stale, secrets)).toThrow(
          expect.objectContaining({ code: CrmErrorCode.INVALID_SIGNATURE }),
        );
        expect(() => connector.parseWebhook({ ...request, url: `${url}?forged=1` }, secrets)).toThrow(
          expect.objectContaining({ code: CrmErrorCode.INVALID_SIGNATURE }),
        );
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });
});
