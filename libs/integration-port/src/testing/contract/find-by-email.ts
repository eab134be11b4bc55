import type { ContractContext } from './contract-context';
import { compareIds } from './oracle';

/** findByEmail: matching regardless of case. */
export function findByEmailCases(ctx: ContractContext): void {
  const { runId, newContact } = ctx;

  it('finds contacts by e-mail regardless of the case stored in the CRM', async () => {
    const session = await ctx.fixture.session();
    const mixed = newContact('find');
    mixed.email = `Contract.${runId}.MiXeD-${ctx.emailSequence}@Example.COM`;
    const other = newContact('find');
    const [mixedRecord, otherRecord] = await ctx.fixture.staging.createContacts([mixed, other]);
    const found = await ctx.fixture.port.findByEmail(session, ctx.fixture.contact.object, [
      mixed.email.toLowerCase(),
      other.email.toLowerCase(),
      `nobody-${runId}@example.com`,
    ]);
    expect(found.map((record) => record.id).sort(compareIds)).toEqual(
      [mixedRecord.id, otherRecord.id].sort(compareIds),
    );
    expect(found.every((record) => record.object === ctx.fixture.contact.object)).toBe(true);
  });
}
