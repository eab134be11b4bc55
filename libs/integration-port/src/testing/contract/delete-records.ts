import type { ContractContext } from './contract-context';
import { ISO_UTC_OR_OFFSET, cursorAfter } from './oracle';

/** deleteRecords: one result per id, idempotent, seen by readChanges. */
export function deleteRecordsCases(ctx: ContractContext): void {
  const { nextInstant, newContact, readContacts, occurrences } = ctx;

  it('deletes records by id with one result per id in order, idempotently, and readChanges reports it where it reports deletions', async () => {
    const session = await ctx.fixture.session();
    const t1 = nextInstant();
    const [kept, removedFirst, removedSecond] = await ctx.fixture.staging.createContacts(
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

    const results = await ctx.fixture.port.deleteRecords(session, {
      object: ctx.fixture.contact.object,
      ids: removedIds,
    });
    expect(results).toEqual(removedIds.map((id) => ({ id, ok: true })));
    for (const id of removedIds) await expect(ctx.fixture.staging.readContact(id)).resolves.toBeUndefined();
    expect(await ctx.fixture.staging.readContact(kept.id)).toMatchObject({ id: kept.id });
    const live = await ctx.fixture.port.getRecords(session, {
      object: ctx.fixture.contact.object,
      ids: [kept.id, ...removedIds],
    });
    expect(live.map((record) => record.id)).toEqual([kept.id]);

    // Deleting again (a retried run, a record removed in the CRM meanwhile) is not an error.
    const again = await ctx.fixture.port.deleteRecords(session, {
      object: ctx.fixture.contact.object,
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
    if (ctx.contactCapability?.reportsDeletions) {
      expect(Object.fromEntries(deletedCounts)).toEqual(Object.fromEntries(removedIds.map((id) => [id, 1])));
      for (const entry of deleted.filter((candidate) => removedIds.includes(candidate.id))) {
        expect(entry.object).toBe(ctx.fixture.contact.object);
        expect(entry.deletedAt).toMatch(ISO_UTC_OR_OFFSET);
      }
    } else {
      expect([...deletedCounts.values()]).toEqual([0, 0]);
    }
  });
}
