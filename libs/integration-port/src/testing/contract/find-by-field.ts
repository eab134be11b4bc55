import type { ContractContext } from './contract-context';
import { compareIds } from './oracle';

/** findByField: the look-up of a matching key other than the e-mail (a custom field, the e-mail field itself). */
export function findByFieldCases(ctx: ContractContext): void {
  const { runId, newContact } = ctx;

  /** Stages contacts, then gives each the custom key value beside it (undefined: left empty). */
  const stageWithKeys = async (label: string, keys: (string | undefined)[]) => {
    const records = await ctx.fixture.staging.createContacts(keys.map(() => newContact(label)));
    const { customKey } = ctx.fixture.contact.fields;
    for (const [index, key] of keys.entries()) {
      if (key !== undefined) await ctx.fixture.staging.editContact(records[index].id, { [customKey]: key });
    }
    return records.map((record) => record.id);
  };

  const sorted = (ids: string[]) => [...ids].sort(compareIds);

  it('finds contacts by a custom field, several values in one call, every contact holding a value', async () => {
    const session = await ctx.fixture.session();
    const { object, fields } = ctx.fixture.contact;
    const first = `key-${runId}-first`;
    const shared = `key-${runId}-shared`;
    const [firstId, sharedA, sharedB, , otherCase] = await stageWithKeys('field', [
      first,
      shared,
      shared,
      `key-${runId}-not-asked`,
      `KEY-${runId}-FIRST`,
      undefined,
    ]);
    const found = await ctx.fixture.port.findByField(session, {
      object,
      field: fields.customKey,
      values: [first, shared, `key-${runId}-nobody`],
    });
    // A value differing only in case is another value: the field is compared exactly.
    expect(sorted(found.map((record) => record.id))).toEqual(sorted([firstId, sharedA, sharedB]));
    expect(found.map((record) => record.id)).not.toContain(otherCase);
    expect(found.every((record) => record.object === object)).toBe(true);
    const byId = new Map(found.map((record) => [record.id, record.fields[fields.customKey]]));
    expect([byId.get(firstId), byId.get(sharedA), byId.get(sharedB)]).toEqual([first, shared, shared]);
  });

  it('answers [] when no contact holds any of the values, and for no values', async () => {
    const session = await ctx.fixture.session();
    const { object, fields } = ctx.fixture.contact;
    await stageWithKeys('field-none', [`key-${runId}-someone`]);
    for (const values of [[`key-${runId}-no-one`, `key-${runId}-nobody-else`], []]) {
      expect(
        await ctx.fixture.port.findByField(session, { object, field: fields.customKey, values }),
      ).toEqual([]);
    }
  });

  it('compares the e-mail field without regard to case, as the CRMs do', async () => {
    const session = await ctx.fixture.session();
    const { object, fields } = ctx.fixture.contact;
    const mixed = newContact('field-email');
    mixed.email = `Field.${runId}.MiXeD-${ctx.emailSequence}@Example.COM`;
    const [record] = await ctx.fixture.staging.createContacts([mixed]);
    const found = await ctx.fixture.port.findByField(session, {
      object,
      field: fields.email,
      values: [mixed.email.toLowerCase(), `nobody-${runId}@example.com`],
    });
    expect(found.map((candidate) => candidate.id)).toEqual([record.id]);
  });
}
