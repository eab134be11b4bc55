import { CrmError, CrmErrorCode } from '@pm/integration-port';
import { inMemorySyncHarness as setup } from './testing';

// A create is looked up by e-mail once, by the engine: the write tells the connector so (`createsMatched`) on its
// first attempt, and a retried write leaves the connector its own look-up. A complete first read of the CRM in the
// same run is that look-up already: only e-mails it returned are looked up again.
describe('e-mail look-ups per create', () => {
  it('1,000 creates without a read of the CRM (PenguinMails → CRM) cost one e-mail look-up batch per write batch and no look-up inside the writes', async () => {
    const t = setup({ direction: 'to_crm' }, { maxWriteBatch: 100 });
    for (let i = 0; i < 1_000; i++) t.locals.add(`new${i}@example.com`, { firstName: `N${i}` });
    const emailSearches = jest.spyOn(t.crm, 'recordsByEmail');

    const run = await t.run();

    expect(run.counts.to_crm.contacts.created).toBe(1_000);
    expect(t.counting.calls.upsertBatch).toBe(10);
    expect(t.counting.calls.findByEmail).toBe(10);
    // Every e-mail search the CRM answered: the engine's look-ups, none made again by the connector per create.
    expect(emailSearches).toHaveBeenCalledTimes(10);
  });

  it('a first run that read the whole CRM first creates without e-mail look-ups (the read was the look-up)', async () => {
    const t = setup({}, { maxWriteBatch: 100 });
    t.crm.createRecord('contacts', { email: 'in-crm@example.com', firstname: 'Crm' });
    for (let i = 0; i < 1_000; i++) t.locals.add(`new${i}@example.com`, { firstName: `N${i}` });
    const emailSearches = jest.spyOn(t.crm, 'recordsByEmail');

    const run = await t.run();

    expect(run.counts.to_crm.contacts.created).toBe(1_000);
    expect(t.counting.calls.upsertBatch).toBe(10);
    expect(t.counting.calls.findByEmail).toBe(0);
    expect(emailSearches).not.toHaveBeenCalled();
    expect(t.crm.listRecords('contacts')).toHaveLength(1_001);
  });

  it('a write retried after a lost response inside the run looks its creates up again instead of duplicating them', async () => {
    const t = setup();
    t.locals.add('retried@example.com', { firstName: 'R' });
    // The CRM applies the create, then the connection resets before the answer arrives: a retryable failure.
    t.counting.failNext('upsertBatch', new CrmError(CrmErrorCode.TIMEOUT, 'socket hang up'), {
      after: 'call',
    });
    const upserts = jest.spyOn(t.connector, 'upsertBatch');

    const run = await t.run();

    expect(run.status).toBe('succeeded');
    expect(run.retriedCalls).toBe(1);
    expect(upserts.mock.calls.map(([, request]) => request.createsMatched)).toEqual([true, false]);
    expect(t.crm.listRecords('contacts')).toHaveLength(1);
    expect(t.links.links).toHaveLength(1);
  });
});
