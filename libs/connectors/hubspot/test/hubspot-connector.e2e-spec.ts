import { collectChangePages } from '@pm/connector-kit/testing';
import { Client } from '@hubspot/api-client';
import { compareByCursorPosition, cursorAfter, dropSeen } from '@pm/connector-kit';
import { CrmError, CrmErrorCode, type CrmSession } from '@pm/integration-port';
import { hubSpotRateLimitBody } from '@pm/sandboxes';
import { HubSpotConnector } from '@pm/connectors/hubspot';
import { startHubSpotTestBed, type HubSpotTestBed } from '../src/testing';

/** Every page of a read, as the engine's paginator drives it. */
async function crmErrorOf(call: Promise<unknown>): Promise<CrmError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof CrmError) return error;
    throw error;
  }
  throw new Error('expected the call to fail with a CrmError');
}

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

      const pages = await collectChangePages(connector, session, {
        object: 'contacts',
        since: null,
        pageSize: 200,
      });
      const records = pages.flatMap((page) => page.records);
      expect(records.map((record) => record.id)).toEqual(
        [...before, ...group, ...after].map((record) => record.id),
      );
      for (const page of pages) expect(page.records.length).toBeLessThanOrEqual(200);
      expect([...records].sort(compareByCursorPosition)).toEqual(records);
      // No search ever pages by offset: a first range page (5 earlier records and 195 of the group), 15 full group
      // pages by id (the last holds the group's last matches, as the search's total says) and the range after it.
      expect(searches()).toBe(17);

      // A run stopped after the 1,234th record of the group resumes right after it.
      const stoppedAt = group[1233];
      const cursor = { modifiedAt: stoppedAt.updatedAt, lastId: stoppedAt.id };
      const resumed = dropSeen(
        (
          await collectChangePages(connector, session, { object: 'contacts', since: cursor, pageSize: 200 })
        ).flatMap((page) => page.records),
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
      const pages = await collectChangePages(connector, session, {
        object: 'contacts',
        since: cursor,
        pageSize: 200,
      });
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
        (await collectChangePages(connector, session, { object: 'contacts', since: null })).flatMap(
          (page) => page.records,
        ),
        null,
      );
      bed.sandbox.editInCrm('contacts', first.id, { jobtitle: 'Chief Penguin' }, { at: new Date(t0 + 5000) });
      bed.sandbox.associateInCrm('contacts', first.id, 'companies', company.id);

      const fresh = dropSeen(
        (await collectChangePages(connector, session, { object: 'contacts', since: cursor })).flatMap(
          (page) => page.records,
        ),
        cursor,
      );
      expect(fresh.map((record) => record.id)).toEqual([first.id]);
      expect(fresh[0].fields.jobtitle).toBe('Chief Penguin');
      expect(fresh[0].associations).toEqual({ companies: [company.id] });
      expect(fresh.map((record) => record.id)).not.toContain(second.id);
    });

    it('reads no associations where the caller asks for none, and reads them for many records in one request on request', async () => {
      const at = new Date(Date.now() - 600_000);
      const contacts = bed.sandbox.seedContacts(3, { at });
      const [company] = bed.sandbox.seedCompanies(1, { at });
      bed.sandbox.associateInCrm('contacts', contacts[0].id, 'companies', company.id);
      const associationReads = () =>
        bed.sandbox.counters.count('POST /crm/v4/associations/:fromObjectType/:toObjectType/batch/read');
      const before = associationReads();

      const page = await connector.readChanges(session, {
        object: 'contacts',
        since: null,
        pageSize: 200,
        associations: [],
      });
      expect(page.records.length).toBeGreaterThanOrEqual(3);
      expect(page.records.every((record) => record.associations === undefined)).toBe(true);
      expect(associationReads()).toBe(before);

      const ids = page.records.map((record) => record.id);
      const byId = await connector.readAssociations(session, {
        object: 'contacts',
        toObject: 'companies',
        ids,
      });
      expect(associationReads()).toBe(before + 1);
      expect(byId[contacts[0].id]).toEqual([company.id]);
      expect(byId[contacts[1].id] ?? []).toEqual([]);
      expect(connector.capabilities().maxAssociationRead).toBe(1_000);
    });

    it('reads companies by hs_lastmodifieddate and reports companies moved to the recycle bin', async () => {
      const t0 = Date.now() - 600_000;
      const [kept, removed] = bed.sandbox.seedCompanies(2, { at: new Date(t0) });
      const since = { modifiedAt: new Date(t0).toISOString() };
      const first = await collectChangePages(connector, session, { object: 'companies', since });
      expect(first.flatMap((page) => page.records.map((record) => record.id))).toEqual([kept.id, removed.id]);
      expect(first.flatMap((page) => page.records)[0]).toMatchObject({
        object: 'companies',
        fields: { name: kept.properties.name },
      });

      bed.sandbox.portal.archive('companies', removed.id, 'CRM_UI', new Date(t0 + 1000));
      const second = await collectChangePages(connector, session, { object: 'companies', since });
      expect(second.flatMap((page) => page.records.map((record) => record.id))).toEqual([kept.id]);
      expect(second.flatMap((page) => page.deleted)).toEqual([
        { id: removed.id, object: 'companies', deletedAt: new Date(t0 + 1000).toISOString() },
      ]);
      expect(bed.sandbox.counters.count('POST /crm/v3/objects/companies/search')).toBe(2);
    });

    it('refuses a page token that belongs to another object', async () => {
      bed.sandbox.seedContacts(3);
      const [page] = await collectChangePages(connector, session, {
        object: 'contacts',
        since: null,
        pageSize: 2,
      });
      const misuse = crmErrorOf(
        connector.readChanges(session, { object: 'companies', since: null, pageToken: page.nextPageToken }),
      );
      expect((await misuse).code).toBe(CrmErrorCode.VALIDATION_FAILED);
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
});
