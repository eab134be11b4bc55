import { createHash, randomBytes } from 'node:crypto';
import { CrmError, CrmErrorCode } from '../errors';
import type { IntegrationPort } from '../integration-port';
import type {
  ChangePage,
  ConnectorCapabilities,
  CrmRecord,
  CrmSession,
  FieldType,
  ObjectCapability,
  ReadChangesRequest,
  SyncCursor,
  UpsertInput,
  UpsertResult,
} from '../types';
import type { ContractFixture, StagedContact } from './contract-fixture';

const FIELD_TYPES: ReadonlySet<FieldType> = new Set<FieldType>([
  'string',
  'text',
  'email',
  'phone',
  'url',
  'number',
  'boolean',
  'date',
  'datetime',
  'picklist',
  'multipicklist',
  'reference',
  'id',
  'other',
]);

const ISO_UTC_OR_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

/*
 * The contract's own reading of the cursor rules and its own page loop. They restate what @pm/connector-kit
 * implements (compareIds, cursorAfter, dropSeen, readAllChanges) instead of importing it: the port library may import
 * nothing of the product (layer rules), and an independent oracle catches a bug in the shared helpers rather than
 * repeating it. The rules are the port's: instants compared in UTC, ids numerically when both are integers, else by
 * UTF-16 code unit.
 */
const UNSIGNED_INTEGER = /^\d+$/;

function compareIds(a: string, b: string): number {
  if (UNSIGNED_INTEGER.test(a) && UNSIGNED_INTEGER.test(b)) {
    const left = BigInt(a);
    const right = BigInt(b);
    return left < right ? -1 : left > right ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareInstants(a: string, b: string): number {
  const left = Date.parse(a);
  const right = Date.parse(b);
  if (Number.isNaN(left) || Number.isNaN(right)) {
    throw new Error(`Not comparable as instants: "${a}", "${b}"`);
  }
  return left - right;
}

function compareByCursorPosition(a: CrmRecord, b: CrmRecord): number {
  return compareInstants(a.modifiedAt, b.modifiedAt) || compareIds(a.id, b.id);
}

function isAfterCursor(record: CrmRecord, cursor: SyncCursor | null): boolean {
  if (cursor === null) return true;
  const byTime = compareInstants(record.modifiedAt, cursor.modifiedAt);
  if (byTime !== 0) return byTime > 0;
  return cursor.lastId === undefined || compareIds(record.id, cursor.lastId) > 0;
}

function dropSeen(records: CrmRecord[], cursor: SyncCursor | null): CrmRecord[] {
  return records.filter((record) => isAfterCursor(record, cursor));
}

/** The engine's cursor after processing `records` on top of `previous`: the greatest (modifiedAt, id). */
function cursorAfter(records: CrmRecord[], previous: SyncCursor | null): SyncCursor | null {
  const greatest = [...records].sort(compareByCursorPosition).at(-1);
  if (greatest === undefined || !isAfterCursor(greatest, previous)) return previous;
  return { modifiedAt: greatest.modifiedAt, lastId: greatest.id };
}

/** Reads page after page as the engine's paginator does, and fails where it would: on a page token seen before. */
async function readAllPages(
  port: IntegrationPort,
  session: CrmSession,
  request: Omit<ReadChangesRequest, 'pageToken'>,
): Promise<ChangePage[]> {
  const pages: ChangePage[] = [];
  const followed = new Set<string>();
  let pageToken: string | undefined;
  for (;;) {
    const page = await port.readChanges(
      session,
      pageToken === undefined ? request : { ...request, pageToken },
    );
    pages.push(page);
    const next = page.nextPageToken;
    if (next === undefined || next === '') return pages;
    if (followed.has(next)) {
      throw new Error(
        `readChanges returned the page token "${next}" a second time (page ${pages.length}): the shared paginator ` +
          'stops such a read with an error, so every read of this connector would fail',
      );
    }
    followed.add(next);
    pageToken = next;
  }
}

/** The code of the CrmError `call` throws; fails the test when it returns or throws something else. */
function crmErrorCodeOf(call: () => unknown): CrmErrorCode {
  try {
    call();
  } catch (error) {
    if (error instanceof CrmError) return error.code;
    throw new Error(`Expected a CrmError, got ${String(error)}`, { cause: error });
  }
  throw new Error('Expected a CrmError, but the call returned normally');
}

/**
 * How many contacts the getRecords case asks for at once: above HubSpot's batch/read limit of 100 so the connector
 * must split the call, yet quick to stage in every sandbox.
 */
const GET_RECORDS_COUNT = 120;

interface ReadResult {
  pages: ChangePage[];
  records: CrmRecord[];
}

/**
 * The contract every connector and its CRM sandbox must pass: one Jest suite, run once per connector with a fixture
 * that supplies the port, a session and CRM-side staging. It checks behaviour the sync engine relies on — what a
 * connector returns, not how it calls its CRM — and reads page by page as the engine's `readAllChanges` does.
 *
 * Staged changes are stamped by the kit on a clock that starts a day in the past and moves in whole seconds, so
 * they never collide with each other and CRMs with one-second precision keep their order.
 */
export function describeIntegrationPortContract(
  name: string,
  createFixture: () => Promise<ContractFixture>,
): void {
  describe(`${name}: IntegrationPort contract`, () => {
    let fixture: ContractFixture;
    let capabilities: ConnectorCapabilities;
    let contactCapability: ObjectCapability | undefined;
    const runId = randomBytes(4).toString('hex');
    let emailSequence = 0;
    let kitInstantMs = Math.floor(Date.now() / 1000) * 1000 - 24 * 3_600_000;

    /** The next staging instant: one second after the previous one. */
    const nextInstant = (): string => {
      kitInstantMs += 1000;
      return new Date(kitInstantMs).toISOString();
    };

    const newContact = (label: string): StagedContact => {
      emailSequence++;
      return {
        email: `contract-${runId}-${label}-${emailSequence}@example.com`,
        firstName: `First${emailSequence}`,
        lastName: `Contract ${label}`,
      };
    };

    const emailOf = (record: CrmRecord): string | undefined => {
      const fromFixture = fixture.contact.readEmail?.(record);
      if (fromFixture !== undefined) return fromFixture;
      const value = record.fields[fixture.contact.fields.email];
      return typeof value === 'string' ? value : undefined;
    };

    const firstNameOf = (record: CrmRecord): string | undefined => {
      const fromFixture = fixture.contact.readFirstName?.(record);
      if (fromFixture !== undefined) return fromFixture;
      const value = record.fields[fixture.contact.fields.firstName];
      return typeof value === 'string' ? value : undefined;
    };

    const contactFields = (contact: StagedContact): Record<string, unknown> => ({
      [fixture.contact.fields.email]: contact.email,
      [fixture.contact.fields.firstName]: contact.firstName,
      [fixture.contact.fields.lastName]: contact.lastName,
    });

    const pageSize = (): number => fixture.readPageSize ?? Math.min(capabilities.maxReadPage, 100);

    const readContacts = async (session: CrmSession, since: SyncCursor | null): Promise<ReadResult> => {
      const pages = await readAllPages(fixture.port, session, {
        object: fixture.contact.object,
        since,
        pageSize: pageSize(),
      });
      return { pages, records: pages.flatMap((page) => page.records) };
    };

    /** How often each id occurs; the contract's "exactly once". */
    const occurrences = (records: { id: string }[], ids: Iterable<string>): Map<string, number> => {
      const counts = new Map<string, number>([...ids].map((id) => [id, 0]));
      for (const record of records) {
        const count = counts.get(record.id);
        if (count !== undefined) counts.set(record.id, count + 1);
      }
      return counts;
    };

    const expectOrderedByCursorPosition = (records: CrmRecord[]): void => {
      for (let i = 1; i < records.length; i++) {
        if (compareByCursorPosition(records[i - 1], records[i]) > 0) {
          throw new Error(
            `readChanges must return records oldest first with ties ordered by id, but ` +
              `(${records[i - 1].modifiedAt}, ${records[i - 1].id}) came before (${records[i].modifiedAt}, ${records[i].id})`,
          );
        }
      }
    };

    const upsertInChunks = async (
      session: CrmSession,
      inputs: UpsertInput[],
      options: { createsMatched?: boolean } = {},
    ): Promise<UpsertResult[]> => {
      const results: UpsertResult[] = [];
      for (let start = 0; start < inputs.length; start += capabilities.maxWriteBatch) {
        const chunk = inputs.slice(start, start + capabilities.maxWriteBatch);
        const chunkResults = await fixture.port.upsertBatch(session, {
          object: fixture.contact.object,
          records: chunk,
          ...options,
        });
        expect(chunkResults.map((result) => result.key)).toEqual(chunk.map((input) => input.key));
        results.push(...chunkResults);
      }
      return results;
    };

    beforeAll(async () => {
      fixture = await createFixture();
      capabilities = fixture.port.capabilities();
      contactCapability = capabilities.objects.find((object) => object.name === fixture.contact.object);
    });

    afterAll(async () => {
      await fixture?.close?.();
    });

    it('declares well-formed capabilities: objects, batch sizes, rate limits', () => {
      expect(capabilities.provider).toBe(fixture.port.provider);
      expect(capabilities.displayName).toEqual(expect.any(String));
      expect(capabilities.objects.length).toBeGreaterThan(0);
      const names = capabilities.objects.map((object) => object.name);
      expect(new Set(names).size).toBe(names.length);
      expect(contactCapability).toMatchObject({ role: 'contact', emailField: fixture.contact.fields.email });
      for (const object of capabilities.objects) {
        expect(object.label).toEqual(expect.any(String));
        expect(typeof object.reportsDeletions).toBe('boolean');
        expect(typeof object.upsertByEmail).toBe('boolean');
      }
      for (const size of [
        capabilities.maxWriteBatch,
        capabilities.maxReadPage,
        capabilities.maxConcurrency,
      ]) {
        expect(Number.isInteger(size) && size >= 1).toBe(true);
      }
      expect(capabilities.rateLimits.length).toBeGreaterThan(0);
      for (const limit of capabilities.rateLimits) {
        expect(Number.isInteger(limit.limit) && limit.limit > 0).toBe(true);
        if (limit.kind === 'window') expect(limit.windowMs).toBeGreaterThan(0);
      }
      if (capabilities.webhooks.supported) {
        expect(capabilities.webhooks.verification).not.toBe('none');
      }
      expect(Array.isArray(capabilities.oauth.defaultScopes)).toBe(true);
    });

    it('builds an authorize URL carrying client_id, state and redirect_uri (and the PKCE challenge where supported)', () => {
      const state = `state-${runId}`;
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const url = new URL(
        fixture.port.buildAuthorizeUrl({
          state,
          redirectUri: fixture.oauth.redirectUri,
          codeChallenge: capabilities.oauth.pkce ? challenge : undefined,
        }),
      );
      expect(url.searchParams.get('state')).toBe(state);
      expect(url.searchParams.get('redirect_uri')).toBe(fixture.oauth.redirectUri);
      expect(url.searchParams.get('client_id')).toEqual(expect.stringMatching(/.+/));
      if (capabilities.oauth.pkce) {
        expect(url.searchParams.get('code_challenge')).toBe(challenge);
        expect(url.searchParams.get('code_challenge_method')).toBe('S256');
      }
    });

    it('rejects an unknown refresh token with AUTH_REVOKED', async () => {
      const session = await fixture.session();
      const refresh = fixture.port.refreshTokens(`unknown-refresh-token-${runId}`, {
        instanceUrl: session.instanceUrl,
      });
      await expect(refresh).rejects.toBeInstanceOf(CrmError);
      await expect(refresh).rejects.toMatchObject({ code: CrmErrorCode.AUTH_REVOKED });
    });

    it('describes the contact object with typed e-mail and name fields', async () => {
      const fields = await fixture.port.describeObject(await fixture.session(), fixture.contact.object);
      for (const field of fields) {
        expect(FIELD_TYPES.has(field.type)).toBe(true);
        expect(field).toMatchObject({
          name: expect.any(String),
          label: expect.any(String),
          crmType: expect.any(String),
        });
      }
      const names = fields.map((field) => field.name);
      expect(names).toEqual(expect.arrayContaining(Object.values(fixture.contact.fields)));
      const email = fields.find((field) => field.name === fixture.contact.fields.email);
      expect(email?.type).toEqual(expect.any(String));
      expect(email?.readOnly).toBe(false);
    });

    it('reads every staged record exactly once on a first read (null cursor), oldest first', async () => {
      const session = await fixture.session();
      const at = nextInstant();
      const staged = [
        ...(await fixture.staging.createContacts([newContact('first'), newContact('first')], { at })),
        ...(await fixture.staging.createContacts([newContact('first')], { at: nextInstant() })),
      ];
      const { records } = await readContacts(session, null);
      const counts = occurrences(
        records,
        staged.map((record) => record.id),
      );
      expect([...counts.values()]).toEqual([1, 1, 1]);
      expectOrderedByCursorPosition(records);
      for (const original of staged) {
        const read = records.find((record) => record.id === original.id) as CrmRecord;
        expect(read.object).toBe(fixture.contact.object);
        expect(read.modifiedAt).toMatch(ISO_UTC_OR_OFFSET);
        expect(compareInstants(read.modifiedAt, original.modifiedAt)).toBe(0);
        expect(emailOf(read)?.toLowerCase()).toBe(emailOf(original)?.toLowerCase());
      }
    });

    it('reads only later changes after a cursor, including an edit of a record the cursor already covered', async () => {
      const session = await fixture.session();
      const t1 = nextInstant();
      const firstBatch = await fixture.staging.createContacts(
        [newContact('incremental'), newContact('incremental'), newContact('incremental')],
        { at: t1 },
      );
      const firstIds = new Set(firstBatch.map((record) => record.id));
      const firstRead = await readContacts(session, { modifiedAt: t1 });
      const cursor = cursorAfter(
        firstRead.records.filter((record) => firstIds.has(record.id)),
        null,
      ) as SyncCursor;
      expect(cursor).toMatchObject({ lastId: [...firstIds].sort(compareIds).at(-1) });

      // The record with the smallest id sits at the cursor's instant below lastId: only its new time makes it new.
      const edited = [...firstBatch].sort((a, b) => compareIds(a.id, b.id))[0];
      const t2 = nextInstant();
      await fixture.staging.editContact(
        edited.id,
        { [fixture.contact.fields.firstName]: `Edited${runId}` },
        { at: t2 },
      );
      const [later] = await fixture.staging.createContacts([newContact('incremental')], { at: t2 });

      const { records } = await readContacts(session, cursor);
      const interesting = new Set([...firstIds, later.id]);
      const fresh = dropSeen(records, cursor).filter((record) => interesting.has(record.id));
      expect(fresh.map((record) => record.id).sort(compareIds)).toEqual(
        [edited.id, later.id].sort(compareIds),
      );
      expect(firstNameOf(fresh.find((record) => record.id === edited.id) as CrmRecord)).toBe(
        `Edited${runId}`,
      );
    });

    it('reads many records sharing one timestamp across page boundaries exactly once, also when resuming inside the group', async () => {
      const session = await fixture.session();
      const at = nextInstant();
      const count = pageSize() * 2 + 7;
      const staged = await fixture.staging.createContacts(
        Array.from({ length: count }, () => newContact('same-instant')),
        { at },
      );
      const stagedIds = staged.map((record) => record.id);
      const stagedSet = new Set(stagedIds);

      const { pages, records } = await readContacts(session, { modifiedAt: at });
      const pagesWithGroup = pages.filter((page) => page.records.some((record) => stagedSet.has(record.id)));
      expect(pagesWithGroup.length).toBeGreaterThanOrEqual(3);
      for (const page of pages) expect(page.records.length).toBeLessThanOrEqual(pageSize());
      const counts = occurrences(records, stagedIds);
      expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
      expectOrderedByCursorPosition(records);

      // A run stopped inside the group resumes from (instant, an id in the middle) and loses nothing.
      const sortedIds = [...stagedIds].sort(compareIds);
      const middle = Math.floor(pageSize() / 2);
      const resumeCursor: SyncCursor = { modifiedAt: at, lastId: sortedIds[middle] };
      const resumed = await readContacts(session, resumeCursor);
      const resumedIds = dropSeen(resumed.records, resumeCursor)
        .map((record) => record.id)
        .filter((id) => stagedSet.has(id));
      expect(resumedIds).toEqual(sortedIds.slice(middle + 1));
    });

    it('reports deletions where the capability says so, and never returns a deleted record as live', async () => {
      const session = await fixture.session();
      const t1 = nextInstant();
      const [kept, removed] = await fixture.staging.createContacts(
        [newContact('delete'), newContact('delete')],
        {
          at: t1,
        },
      );
      const cursor = cursorAfter(
        (await readContacts(session, { modifiedAt: t1 })).records.filter(
          (r) => r.id === kept.id || r.id === removed.id,
        ),
        null,
      );
      await fixture.staging.deleteContact(removed.id, { at: nextInstant() });

      const { pages, records } = await readContacts(session, cursor);
      expect(records.map((record) => record.id)).not.toContain(removed.id);
      expect(dropSeen(records, cursor).map((record) => record.id)).not.toContain(kept.id);
      const deleted = pages.flatMap((page) => page.deleted).filter((entry) => entry.id === removed.id);
      if (contactCapability?.reportsDeletions) {
        expect(deleted).toHaveLength(1);
        expect(deleted[0].object).toBe(fixture.contact.object);
        expect(deleted[0].deletedAt).toMatch(ISO_UTC_OR_OFFSET);
      } else {
        expect(deleted).toEqual([]);
      }
    });

    /** The id of a contact that existed and is gone: well-formed for the CRM, unknown to it (or in its bin). */
    const goneContactId = async (label: string): Promise<string> => {
      const [gone] = await fixture.staging.createContacts([newContact(label)], { at: nextInstant() });
      await fixture.staging.deleteContact(gone.id, { at: nextInstant() });
      return gone.id;
    };

    it('gets records by id across more than one CRM batch; unknown ids are simply absent', async () => {
      const session = await fixture.session();
      // Past HubSpot's batch/read limit of 100; connectors test their own CRM's limit (Salesforce 200) themselves.
      const staged = await fixture.staging.createContacts(
        Array.from({ length: GET_RECORDS_COUNT }, () => newContact('get')),
        { at: nextInstant() },
      );
      const unknownId = await goneContactId('get-gone');
      const ids = staged.map((record) => record.id);
      ids.splice(Math.floor(ids.length / 2), 0, unknownId);

      const records = await fixture.port.getRecords(session, { object: fixture.contact.object, ids });
      expect(records.map((record) => record.id).sort(compareIds)).toEqual(
        staged.map((record) => record.id).sort(compareIds),
      );
      const byId = new Map(records.map((record) => [record.id, record]));
      for (const original of staged) {
        const read = byId.get(original.id) as CrmRecord;
        expect(read.object).toBe(fixture.contact.object);
        expect(read.modifiedAt).toMatch(ISO_UTC_OR_OFFSET);
        expect(compareInstants(read.modifiedAt, original.modifiedAt)).toBe(0);
        expect(emailOf(read)?.toLowerCase()).toBe(emailOf(original)?.toLowerCase());
      }

      // Asked fields are returned; an empty list of ids costs nothing and returns nothing.
      const [first] = staged;
      const [withFields] = await fixture.port.getRecords(session, {
        object: fixture.contact.object,
        ids: [first.id],
        fields: [fixture.contact.fields.email, fixture.contact.fields.firstName],
      });
      expect(withFields?.id).toBe(first.id);
      expect(firstNameOf(withFields as CrmRecord)).toBe(firstNameOf(first));
      await expect(
        fixture.port.getRecords(session, { object: fixture.contact.object, ids: [] }),
      ).resolves.toEqual([]);
    });

    it('deletes records by id with one result per id in order, idempotently, and readChanges reports it where it reports deletions', async () => {
      const session = await fixture.session();
      const t1 = nextInstant();
      const [kept, removedFirst, removedSecond] = await fixture.staging.createContacts(
        [newContact('port-delete'), newContact('port-delete'), newContact('port-delete')],
        { at: t1 },
      );
      const cursor = cursorAfter(
        (await readContacts(session, { modifiedAt: t1 })).records.filter((record) =>
          [kept.id, removedFirst.id, removedSecond.id].includes(record.id),
        ),
        null,
      );
      const removedIds = [removedSecond.id, removedFirst.id];

      const results = await fixture.port.deleteRecords(session, {
        object: fixture.contact.object,
        ids: removedIds,
      });
      expect(results).toEqual(removedIds.map((id) => ({ id, ok: true })));
      for (const id of removedIds) await expect(fixture.staging.readContact(id)).resolves.toBeUndefined();
      expect(await fixture.staging.readContact(kept.id)).toMatchObject({ id: kept.id });
      const live = await fixture.port.getRecords(session, {
        object: fixture.contact.object,
        ids: [kept.id, ...removedIds],
      });
      expect(live.map((record) => record.id)).toEqual([kept.id]);

      // Deleting again (a retried run, a record removed in the CRM meanwhile) is not an error.
      const again = await fixture.port.deleteRecords(session, {
        object: fixture.contact.object,
        ids: [removedFirst.id, removedSecond.id],
      });
      expect(again).toEqual([
        { id: removedFirst.id, ok: true },
        { id: removedSecond.id, ok: true },
      ]);

      const { pages, records } = await readContacts(session, cursor);
      expect(records.map((record) => record.id)).not.toContain(removedFirst.id);
      expect(records.map((record) => record.id)).not.toContain(removedSecond.id);
      const deleted = pages.flatMap((page) => page.deleted);
      const deletedCounts = occurrences(deleted, removedIds);
      if (contactCapability?.reportsDeletions) {
        expect(Object.fromEntries(deletedCounts)).toEqual(
          Object.fromEntries(removedIds.map((id) => [id, 1])),
        );
        for (const entry of deleted.filter((candidate) => removedIds.includes(candidate.id))) {
          expect(entry.object).toBe(fixture.contact.object);
          expect(entry.deletedAt).toMatch(ISO_UTC_OR_OFFSET);
        }
      } else {
        expect([...deletedCounts.values()]).toEqual([0, 0]);
      }
    });

    it('lists the ids and modification times of live records page by page, each once; a deleted record is absent', async () => {
      const session = await fixture.session();
      const t1 = nextInstant();
      const staged = await fixture.staging.createContacts(
        [newContact('port-list'), newContact('port-list'), newContact('port-list')],
        { at: t1 },
      );
      const removed = staged[2];
      await fixture.staging.deleteContact(removed.id);
      const request = { object: fixture.contact.object, modifiedSince: t1, pageSize: 50 };
      const seen = new Map<string, string>();
      const followed = new Set<string>();
      let pageToken: string | undefined;
      do {
        const page = await fixture.port.listIds(session, { ...request, pageToken });
        for (const stamp of page.ids) {
          expect(seen.has(stamp.id)).toBe(false);
          expect(stamp.modifiedAt).toMatch(ISO_UTC_OR_OFFSET);
          seen.set(stamp.id, stamp.modifiedAt);
        }
        pageToken = page.nextPageToken || undefined;
        if (pageToken !== undefined) {
          expect(followed.has(pageToken)).toBe(false);
          followed.add(pageToken);
        }
      } while (pageToken !== undefined);
      expect(seen.has(removed.id)).toBe(false);
      const live = await fixture.port.getRecords(session, {
        object: fixture.contact.object,
        ids: [staged[0].id, staged[1].id],
      });
      expect(live).toHaveLength(2);
      for (const record of live) {
        // The same instant readChanges and getRecords report, so a reconcile compares like with like.
        expect(Date.parse(seen.get(record.id) ?? '')).toBe(Date.parse(record.modifiedAt));
      }
    });

    it('upserts a batch with one result per input in order; an invalid record fails alone with the CRM message', async () => {
      const session = await fixture.session();
      const [existing] = await fixture.staging.createContacts([newContact('upsert-existing')]);
      const created = newContact('upsert-new');
      const alsoCreated = newContact('upsert-new');
      const invalid = fixture.staging.invalidContact(contactFields(newContact('upsert-invalid')));
      const inputs: UpsertInput[] = [
        { key: 'create-1', fields: contactFields(created) },
        {
          key: 'update-1',
          crmId: existing.id,
          fields: { [fixture.contact.fields.firstName]: `Updated${runId}` },
        },
        { key: 'invalid-1', fields: invalid.fields },
        { key: 'create-2', fields: contactFields(alsoCreated) },
      ];

      const results = await upsertInChunks(session, inputs);
      expect(results.map((result) => result.key)).toEqual(inputs.map((input) => input.key));
      const [createResult, updateResult, invalidResult, secondCreateResult] = results;
      expect(createResult).toMatchObject({ ok: true, created: true, crmId: expect.any(String) });
      expect(updateResult).toMatchObject({ ok: true, created: false, crmId: existing.id });
      expect(secondCreateResult).toMatchObject({ ok: true, created: true, crmId: expect.any(String) });
      expect(invalidResult.ok).toBe(false);
      if (!invalidResult.ok) {
        expect(invalidResult.error.code).toBe(CrmErrorCode.VALIDATION_FAILED);
        expect(invalidResult.error.message).toMatch(invalid.message);
        if (invalid.field !== undefined) expect(invalidResult.error.field).toBe(invalid.field);
      }

      const createdRecord = createResult.ok
        ? await fixture.staging.readContact(createResult.crmId)
        : undefined;
      expect(createdRecord && emailOf(createdRecord)?.toLowerCase()).toBe(created.email.toLowerCase());
      const updatedRecord = await fixture.staging.readContact(existing.id);
      expect(updatedRecord && firstNameOf(updatedRecord)).toBe(`Updated${runId}`);
    });

    it('does not duplicate a create retried with the same e-mail (or finds it by e-mail where the CRM cannot upsert)', async () => {
      const session = await fixture.session();
      const contact = newContact('retry');
      const [first] = await upsertInChunks(session, [{ key: 'attempt-1', fields: contactFields(contact) }]);
      expect(first).toMatchObject({ ok: true, created: true });
      const firstId = first.ok ? first.crmId : '';
      if (contactCapability?.upsertByEmail) {
        const [retry] = await upsertInChunks(session, [{ key: 'attempt-2', fields: contactFields(contact) }]);
        expect(retry).toMatchObject({ ok: true, created: false, crmId: firstId });
        const found = await fixture.port.findByEmail(session, fixture.contact.object, [
          contact.email.toLowerCase(),
        ]);
        expect(found.map((record) => record.id)).toEqual([firstId]);
      } else {
        // Without a server-side upsert the engine matches by e-mail before creating: that lookup must see the record.
        const found = await fixture.port.findByEmail(session, fixture.contact.object, [
          contact.email.toLowerCase(),
        ]);
        expect(found.map((record) => record.id)).toContain(firstId);
      }
    });

    it('creates without a look-up of its own when the caller matched the creates (createsMatched); a create re-sent without the flag does not duplicate', async () => {
      const session = await fixture.session();
      const contacts = [newContact('matched'), newContact('matched')];
      await fixture.requests?.reset();
      const created = await upsertInChunks(
        session,
        contacts.map((contact, index) => ({ key: `matched-${index}`, fields: contactFields(contact) })),
        { createsMatched: true },
      );
      expect(created).toEqual([
        expect.objectContaining({ ok: true, created: true, crmId: expect.any(String) }),
        expect.objectContaining({ ok: true, created: true, crmId: expect.any(String) }),
      ]);
      if (fixture.requests !== undefined) expect(await fixture.requests.lookups()).toBe(0);
      const firstId = created[0].ok ? created[0].crmId : '';

      // A retry after an ambiguous failure (lost answer, dropped connection) is sent without the flag: the connector
      // must find the contact the first attempt made instead of making a second one.
      const [retry] = await upsertInChunks(session, [
        { key: 'matched-retry', fields: contactFields(contacts[0]) },
      ]);
      expect(retry).toMatchObject({ ok: true, created: false, crmId: firstId });
      const found = await fixture.port.findByEmail(session, fixture.contact.object, [
        contacts[0].email.toLowerCase(),
      ]);
      expect(found.map((record) => record.id)).toEqual([firstId]);
    });

    it('finds contacts by e-mail regardless of the case stored in the CRM', async () => {
      const session = await fixture.session();
      const mixed = newContact('find');
      mixed.email = `Contract.${runId}.MiXeD-${emailSequence}@Example.COM`;
      const other = newContact('find');
      const [mixedRecord, otherRecord] = await fixture.staging.createContacts([mixed, other]);
      const found = await fixture.port.findByEmail(session, fixture.contact.object, [
        mixed.email.toLowerCase(),
        other.email.toLowerCase(),
        `nobody-${runId}@example.com`,
      ]);
      expect(found.map((record) => record.id).sort(compareIds)).toEqual(
        [mixedRecord.id, otherRecord.id].sort(compareIds),
      );
      expect(found.every((record) => record.object === fixture.contact.object)).toBe(true);
    });

    it('finds companies by name before a create and associates a contact with one, then another (where it maps companies)', async () => {
      const mapping = Object.values(capabilities.defaultCompanyMappings ?? {}).find((candidate) =>
        candidate.associates.includes(fixture.contact.object),
      );
      // Every connector that declares company mappings lets its contact object be associated with a company.
      expect(mapping !== undefined || capabilities.defaultCompanyMappings === undefined).toBe(true);
      if (mapping === undefined) return;
      const nameField = mapping.fields.find((entry) => entry.local === 'name')?.crm as string;
      const session = await fixture.session();
      const name = `Contract ${runId} Company`;
      const created = await fixture.port.upsertBatch(session, {
        object: mapping.object,
        records: [
          { key: 'first', fields: { [nameField]: name } },
          { key: 'second', fields: { [nameField]: `${name} Two` } },
        ],
      });
      const [first, second] = created.map((result) =>
        result.ok ? result.crmId : String(result.error.message),
      );
      expect(created.map((result) => result.ok)).toEqual([true, true]);

      const found = await fixture.port.findCompanies(session, {
        object: mapping.object,
        names: [name.toUpperCase(), `Nobody ${runId}`],
        domains: [],
      });
      expect(found.map((record) => record.id)).toContain(first);
      expect(found.map((record) => record.id)).not.toContain(second);
      expect(found.every((record) => record.object === mapping.object)).toBe(true);

      const [contact] = await fixture.staging.createContacts([newContact('company')]);
      const companyOf = async (): Promise<string[] | undefined> => {
        const [read] = await fixture.port.getRecords(session, {
          object: fixture.contact.object,
          ids: [contact.id],
        });
        return read?.associations?.[mapping.object];
      };
      const associate = (toId: string) =>
        fixture.port.associateRecords(session, {
          object: fixture.contact.object,
          toObject: mapping.object,
          pairs: [{ id: contact.id, toId }],
        });
      expect(await associate(first)).toEqual([{ id: contact.id, ok: true }]);
      expect(await companyOf()).toEqual([first]);
      // A contact belongs to one company: associating it with another replaces the first.
      expect(await associate(second)).toEqual([{ id: contact.id, ok: true }]);
      expect(await companyOf()).toEqual([second]);
    });

    it('logs activities with one result per input, in order', async () => {
      const session = await fixture.session();
      const contact = newContact('activity');
      const [record] = await fixture.staging.createContacts([contact]);
      const target = { crmId: record.id, object: fixture.contact.object, email: contact.email };
      const occurredAt = new Date().toISOString();
      const results = await fixture.port.logActivities(session, [
        {
          key: `${runId}-sent`,
          kind: 'email_sent',
          occurredAt,
          subject: 'Contract kit',
          bodyText: 'Hello',
          from: 'sender@example.com',
          to: [contact.email],
          contact: target,
        },
        {
          key: `${runId}-replied`,
          kind: 'email_replied',
          occurredAt,
          subject: 'Re: Contract kit',
          contact: target,
        },
      ]);
      expect(results.map((result) => result.key)).toEqual([`${runId}-sent`, `${runId}-replied`]);
      expect(results).toEqual([
        expect.objectContaining({ ok: true, crmId: expect.any(String) }),
        expect.objectContaining({ ok: true, crmId: expect.any(String) }),
      ]);
    });

    it('accepts a correctly signed webhook and rejects a bad signature with INVALID_SIGNATURE (where supported)', async () => {
      if (!capabilities.webhooks.supported) {
        // Nothing the CRM can send: the fixture must not pretend otherwise.
        expect(fixture.webhooks).toBeUndefined();
        return;
      }
      const webhooks = fixture.webhooks;
      if (webhooks === undefined) {
        throw new Error('The capabilities say webhooks are supported: the fixture must provide `webhooks`');
      }
      const [record] = await fixture.staging.createContacts([newContact('webhook')]);
      const events = fixture.port.parseWebhook(
        webhooks.buildRequest({ recordId: record.id, action: 'updated' }, webhooks.secrets),
        webhooks.secrets,
      );
      expect(events.map((event) => event.recordId)).toContain(record.id);

      const wrongSecret = { ...webhooks.secrets, secret: `${webhooks.secrets.secret}-wrong` };
      const forged = webhooks.buildRequest({ recordId: record.id, action: 'updated' }, wrongSecret);
      expect(crmErrorCodeOf(() => fixture.port.parseWebhook(forged, webhooks.secrets))).toBe(
        CrmErrorCode.INVALID_SIGNATURE,
      );
      if (capabilities.webhooks.verification === 'hmac-sha256') {
        const tampered = webhooks.buildRequest({ recordId: record.id, action: 'updated' }, webhooks.secrets);
        tampered.rawBody = Buffer.concat([tampered.rawBody, Buffer.from(' ')]);
        expect(crmErrorCodeOf(() => fixture.port.parseWebhook(tampered, webhooks.secrets))).toBe(
          CrmErrorCode.INVALID_SIGNATURE,
        );
      }
    });
  });
}
