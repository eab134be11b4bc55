import type { CrmRecord } from '../../types';
import type { ContractContext } from './contract-context';
import { ISO_UTC_OR_OFFSET, compareIds, compareInstants } from './oracle';

/**
 * How many contacts the getRecords case asks for at once: above HubSpot's batch/read limit of 100 so the connector
 * must split the call, yet quick to stage in every sandbox.
 */
const GET_RECORDS_COUNT = 120;

/** getRecords: by id, across CRM batches. */
export function getRecordsCases(ctx: ContractContext): void {
  const { nextInstant, newContact, emailOf, firstNameOf, goneContactId } = ctx;

  it('gets records by id across more than one CRM batch; unknown ids are simply absent', async () => {
    const session = await ctx.fixture.session();
    // Past HubSpot's batch/read limit of 100; connectors test their own CRM's limit (Salesforce 200) themselves.
    const staged = await ctx.fixture.staging.createContacts(
      Array.from({ length: GET_RECORDS_COUNT }, () => newContact('get')),
      { at: nextInstant() },
    );
    const unknownId = await goneContactId('get-gone');
    const ids = staged.map((record) => record.id);
    ids.splice(Math.floor(ids.length / 2), 0, unknownId);

    const records = await ctx.fixture.port.getRecords(session, { object: ctx.fixture.contact.object, ids });
    expect(records.map((record) => record.id).sort(compareIds)).toEqual(
      staged.map((record) => record.id).sort(compareIds),
    );
    const byId = new Map(records.map((record) => [record.id, record]));
    for (const original of staged) {
      const read = byId.get(original.id) as CrmRecord;
      expect(read.object).toBe(ctx.fixture.contact.object);
      expect(read.modifiedAt).toMatch(ISO_UTC_OR_OFFSET);
      expect(compareInstants(read.modifiedAt, original.modifiedAt)).toBe(0);
      expect(emailOf(read)?.toLowerCase()).toBe(emailOf(original)?.toLowerCase());
    }

    // Asked fields are returned; an empty list of ids costs nothing and returns nothing.
    const [first] = staged;
    const [withFields] = await ctx.fixture.port.getRecords(session, {
      object: ctx.fixture.contact.object,
      ids: [first.id],
      fields: [ctx.fixture.contact.fields.email, ctx.fixture.contact.fields.firstName],
    });
    expect(withFields?.id).toBe(first.id);
    expect(firstNameOf(withFields as CrmRecord)).toBe(firstNameOf(first));
    await expect(
      ctx.fixture.port.getRecords(session, { object: ctx.fixture.contact.object, ids: [] }),
    ).resolves.toEqual([]);
  });
}
