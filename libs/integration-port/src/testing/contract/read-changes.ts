import type { CrmRecord, SyncCursor } from '../../types';
import type { ContractContext } from './contract-context';
import { ISO_UTC_OR_OFFSET, compareIds, compareInstants, cursorAfter, dropSeen } from './oracle';

/** readChanges: first reads, reads after a cursor, groups sharing one instant, deletions. */
export function readChangesCases(ctx: ContractContext): void {
  const {
    runId,
    nextInstant,
    newContact,
    emailOf,
    firstNameOf,
    pageSize,
    readContacts,
    occurrences,
    expectOrderedByCursorPosition,
  } = ctx;

  it('reads every staged record exactly once on a first read (null cursor), oldest first', async () => {
    const session = await ctx.fixture.session();
    const at = nextInstant();
    const staged = [
      ...(await ctx.fixture.staging.createContacts([newContact('first'), newContact('first')], { at })),
      ...(await ctx.fixture.staging.createContacts([newContact('first')], { at: nextInstant() })),
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
      expect(read.object).toBe(ctx.fixture.contact.object);
      expect(read.modifiedAt).toMatch(ISO_UTC_OR_OFFSET);
      expect(compareInstants(read.modifiedAt, original.modifiedAt)).toBe(0);
      expect(emailOf(read)?.toLowerCase()).toBe(emailOf(original)?.toLowerCase());
    }
  });

  it('reads only later changes after a cursor, including an edit of a record the cursor already covered', async () => {
    const session = await ctx.fixture.session();
    const t1 = nextInstant();
    const firstBatch = await ctx.fixture.staging.createContacts(
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
    await ctx.fixture.staging.editContact(
      edited.id,
      { [ctx.fixture.contact.fields.firstName]: `Edited${runId}` },
      { at: t2 },
    );
    const [later] = await ctx.fixture.staging.createContacts([newContact('incremental')], { at: t2 });

    const { records } = await readContacts(session, cursor);
    const interesting = new Set([...firstIds, later.id]);
    const fresh = dropSeen(records, cursor).filter((record) => interesting.has(record.id));
    expect(fresh.map((record) => record.id).sort(compareIds)).toEqual([edited.id, later.id].sort(compareIds));
    expect(firstNameOf(fresh.find((record) => record.id === edited.id) as CrmRecord)).toBe(`Edited${runId}`);
  });

  it('reads many records sharing one timestamp across page boundaries exactly once, also when resuming inside the group', async () => {
    const session = await ctx.fixture.session();
    const at = nextInstant();
    const count = pageSize() * 2 + 7;
    const staged = await ctx.fixture.staging.createContacts(
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
    const session = await ctx.fixture.session();
    const t1 = nextInstant();
    const [kept, removed] = await ctx.fixture.staging.createContacts(
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
    await ctx.fixture.staging.deleteContact(removed.id, { at: nextInstant() });

    const { pages, records } = await readContacts(session, cursor);
    expect(records.map((record) => record.id)).not.toContain(removed.id);
    expect(dropSeen(records, cursor).map((record) => record.id)).not.toContain(kept.id);
    const deleted = pages.flatMap((page) => page.deleted).filter((entry) => entry.id === removed.id);
    if (ctx.contactCapability?.reportsDeletions) {
      expect(deleted).toHaveLength(1);
      expect(deleted[0].object).toBe(ctx.fixture.contact.object);
      expect(deleted[0].deletedAt).toMatch(ISO_UTC_OR_OFFSET);
    } else {
      expect(deleted).toEqual([]);
    }
  });
}
