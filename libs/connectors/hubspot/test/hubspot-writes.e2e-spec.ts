import { CrmError, CrmErrorCode, type CrmSession, type UpsertInput } from '@pm/integration-port';
import { HubSpotConnector } from '@pm/connectors/hubspot';
import { startHubSpotTestBed, type HubSpotTestBed } from '../src/testing';

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

  describe('writing', () => {
    it('sends the batch calls of one big upsertBatch one at a time (the engine owns concurrency)', async () => {
      const first = await connector.upsertBatch(session, {
        object: 'contacts',
        records: Array.from({ length: 40 }, (_, i) => contactInput(`seed-${i}`, `seed-${i}@example.com`)),
      });
      const updates: UpsertInput[] = first.map((result, i) => ({
        key: `update-${i}`,
        crmId: result.ok ? result.crmId : '',
        fields: { jobtitle: `Title ${i}` },
      }));
      const upserts = Array.from({ length: 30 }, (_, i) => contactInput(`new-${i}`, `new-${i}@example.com`));
      const creates: UpsertInput[] = Array.from({ length: 30 }, (_, i) => ({
        key: `no-email-${i}`,
        fields: { firstname: `Anonymous ${i}`, lastname: 'Penguin' },
      }));
      // Latency on every call, so that calls sent together would overlap at the sandbox.
      bed.sandbox.faults.latency(20, { times: Number.POSITIVE_INFINITY });
      bed.sandbox.counters.reset();
      const results = await connector.upsertBatch(session, {
        object: 'contacts',
        records: [...updates, ...upserts, ...creates],
        createsMatched: true,
      });
      expect(results.every((result) => result.ok)).toBe(true);
      expect(results.filter((result) => result.ok && result.created)).toHaveLength(60);
      // batch/update, batch/upsert and batch/create: no look-up (the upsert keyed by e-mail needs none).
      expect(bed.sandbox.counters.snapshot()).toMatchObject({ total: 3, maxInFlight: 1 });
    });

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
});
