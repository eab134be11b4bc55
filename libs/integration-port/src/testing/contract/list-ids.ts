import type { ContractContext } from './contract-context';
import { ISO_UTC_OR_OFFSET } from './oracle';

/** listIds: the reconcile's listing of live ids. */
export function listIdsCases(ctx: ContractContext): void {
  const { nextInstant, newContact } = ctx;

  it('lists the ids and modification times of live records page by page, each once; a deleted record is absent', async () => {
    const session = await ctx.fixture.session();
    const t1 = nextInstant();
    const staged = await ctx.fixture.staging.createContacts(
      [newContact('port-list'), newContact('port-list'), newContact('port-list')],
      { at: t1 },
    );
    const removed = staged[2];
    await ctx.fixture.staging.deleteContact(removed.id);
    const request = { object: ctx.fixture.contact.object, modifiedSince: t1, pageSize: 50 };
    const seen = new Map<string, string>();
    const followed = new Set<string>();
    let pageToken: string | undefined;
    do {
      const page = await ctx.fixture.port.listIds(session, { ...request, pageToken });
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
    const live = await ctx.fixture.port.getRecords(session, {
      object: ctx.fixture.contact.object,
      ids: [staged[0].id, staged[1].id],
    });
    expect(live).toHaveLength(2);
    for (const record of live) {
      // The same instant readChanges and getRecords report, so a reconcile compares like with like.
      expect(Date.parse(seen.get(record.id) ?? '')).toBe(Date.parse(record.modifiedAt));
    }
  });
}
