import { CrmErrorCode } from '../../errors';
import type { UpsertInput } from '../../types';
import type { ContractContext } from './contract-context';

/** upsertBatch: per-record results, no duplicate on a retried create, createsMatched. */
export function upsertBatchCases(ctx: ContractContext): void {
  const { runId, newContact, emailOf, firstNameOf, contactFields, upsertInChunks } = ctx;

  it('upserts a batch with one result per input in order; an invalid record fails alone with the CRM message', async () => {
    const session = await ctx.fixture.session();
    const [existing] = await ctx.fixture.staging.createContacts([newContact('upsert-existing')]);
    const created = newContact('upsert-new');
    const alsoCreated = newContact('upsert-new');
    const invalid = ctx.fixture.staging.invalidContact(contactFields(newContact('upsert-invalid')));
    const inputs: UpsertInput[] = [
      { key: 'create-1', fields: contactFields(created) },
      {
        key: 'update-1',
        crmId: existing.id,
        fields: { [ctx.fixture.contact.fields.firstName]: `Updated${runId}` },
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
      ? await ctx.fixture.staging.readContact(createResult.crmId)
      : undefined;
    expect(createdRecord && emailOf(createdRecord)?.toLowerCase()).toBe(created.email.toLowerCase());
    const updatedRecord = await ctx.fixture.staging.readContact(existing.id);
    expect(updatedRecord && firstNameOf(updatedRecord)).toBe(`Updated${runId}`);
  });

  it('does not duplicate a create retried with the same e-mail (or finds it by e-mail where the CRM cannot upsert)', async () => {
    const session = await ctx.fixture.session();
    const contact = newContact('retry');
    const [first] = await upsertInChunks(session, [{ key: 'attempt-1', fields: contactFields(contact) }]);
    expect(first).toMatchObject({ ok: true, created: true });
    const firstId = first.ok ? first.crmId : '';
    if (ctx.contactCapability?.upsertByEmail) {
      const [retry] = await upsertInChunks(session, [{ key: 'attempt-2', fields: contactFields(contact) }]);
      expect(retry).toMatchObject({ ok: true, created: false, crmId: firstId });
      const found = await ctx.fixture.port.findByEmail(session, ctx.fixture.contact.object, [
        contact.email.toLowerCase(),
      ]);
      expect(found.map((record) => record.id)).toEqual([firstId]);
    } else {
      // Without a server-side upsert the engine matches by e-mail before creating: that lookup must see the record.
      const found = await ctx.fixture.port.findByEmail(session, ctx.fixture.contact.object, [
        contact.email.toLowerCase(),
      ]);
      expect(found.map((record) => record.id)).toContain(firstId);
    }
  });

  it('creates without a look-up of its own when the caller matched the creates (createsMatched); a create re-sent without the flag does not duplicate', async () => {
    const session = await ctx.fixture.session();
    const contacts = [newContact('matched'), newContact('matched')];
    await ctx.fixture.requests?.reset();
    const created = await upsertInChunks(
      session,
      contacts.map((contact, index) => ({ key: `matched-${index}`, fields: contactFields(contact) })),
      { createsMatched: true },
    );
    expect(created).toEqual([
      expect.objectContaining({ ok: true, created: true, crmId: expect.any(String) }),
      expect.objectContaining({ ok: true, created: true, crmId: expect.any(String) }),
    ]);
    if (ctx.fixture.requests !== undefined) expect(await ctx.fixture.requests.lookups()).toBe(0);
    const firstId = created[0].ok ? created[0].crmId : '';

    // A retry after an ambiguous failure (lost answer, dropped connection) is sent without the flag: the connector
    // must find the contact the first attempt made instead of making a second one.
    const [retry] = await upsertInChunks(session, [
      { key: 'matched-retry', fields: contactFields(contacts[0]) },
    ]);
    expect(retry).toMatchObject({ ok: true, created: false, crmId: firstId });
    const found = await ctx.fixture.port.findByEmail(session, ctx.fixture.contact.object, [
      contacts[0].email.toLowerCase(),
    ]);
    expect(found.map((record) => record.id)).toEqual([firstId]);
  });
}
