import type { ContractContext } from './contract-context';

/** logActivities: one result per activity. */
export function logActivitiesCases(ctx: ContractContext): void {
  const { runId, newContact } = ctx;

  it('logs activities with one result per input, in order', async () => {
    const session = await ctx.fixture.session();
    const contact = newContact('activity');
    const [record] = await ctx.fixture.staging.createContacts([contact]);
    const target = { crmId: record.id, object: ctx.fixture.contact.object, email: contact.email };
    const occurredAt = new Date().toISOString();
    const results = await ctx.fixture.port.logActivities(session, [
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
}
