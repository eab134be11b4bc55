import type { ContractContext } from './contract-context';

/** findCompanies and associateRecords: a contact's company, found by name and associated. */
export function findCompaniesCases(ctx: ContractContext): void {
  const { runId, newContact } = ctx;

  it('finds companies by name before a create and associates a contact with one, then another (where it maps companies)', async () => {
    const mapping = Object.values(ctx.capabilities.defaultCompanyMappings ?? {}).find((candidate) =>
      candidate.associates.includes(ctx.fixture.contact.object),
    );
    // Every connector that declares company mappings lets its contact object be associated with a company.
    expect(mapping !== undefined || ctx.capabilities.defaultCompanyMappings === undefined).toBe(true);
    if (mapping === undefined) return;
    const nameField = mapping.fields.find((entry) => entry.local === 'name')?.crm as string;
    const session = await ctx.fixture.session();
    const name = `Contract ${runId} Company`;
    const created = await ctx.fixture.port.upsertBatch(session, {
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

    const found = await ctx.fixture.port.findCompanies(session, {
      object: mapping.object,
      names: [name.toUpperCase(), `Nobody ${runId}`],
      domains: [],
    });
    expect(found.map((record) => record.id)).toContain(first);
    expect(found.map((record) => record.id)).not.toContain(second);
    expect(found.every((record) => record.object === mapping.object)).toBe(true);

    const [contact] = await ctx.fixture.staging.createContacts([newContact('company')]);
    const companyOf = async (): Promise<string[] | undefined> => {
      const [read] = await ctx.fixture.port.getRecords(session, {
        object: ctx.fixture.contact.object,
        ids: [contact.id],
      });
      return read?.associations?.[mapping.object];
    };
    const associate = (toId: string) =>
      ctx.fixture.port.associateRecords(session, {
        object: ctx.fixture.contact.object,
        toObject: mapping.object,
        pairs: [{ id: contact.id, toId }],
      });
    expect(await associate(first)).toEqual([{ id: contact.id, ok: true }]);
    expect(await companyOf()).toEqual([first]);
    // A contact belongs to one company: associating it with another replaces the first.
    expect(await associate(second)).toEqual([{ id: contact.id, ok: true }]);
    expect(await companyOf()).toEqual([second]);
  });
}
