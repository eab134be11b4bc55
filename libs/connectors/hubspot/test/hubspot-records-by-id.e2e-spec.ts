import { collectChangePages } from '@pm/connector-kit/testing';
import { CrmError, CrmErrorCode, type CrmSession } from '@pm/integration-port';
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

      const pages = await collectChangePages(connector, session, { object: 'contacts', since });
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
});
