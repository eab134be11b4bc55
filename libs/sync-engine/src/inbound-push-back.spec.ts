import { CrmError, CrmErrorCode } from '@pm/integration-port';
import { inMemorySyncHarness } from './testing';

/**
 * Local values found on records an inbound read returns (edited locally while the CRM changed the records too) go
 * back to the CRM in full batches, not one small batch per page read.
 */
describe('InboundPass push-back across pages', () => {
  /** 12 linked contacts; then every CRM record edited (company) and 4 contacts edited locally, one per 3-record page. */
  async function editedOnBothSides(options: { maxWriteBatch: number }) {
    const t = inMemorySyncHarness({}, { maxWriteBatch: options.maxWriteBatch, readPageSize: 3 });
    for (let i = 0; i < 12; i++)
      t.locals.add(`p${String(i).padStart(2, '0')}@example.com`, { firstName: `P${i}` });
    await t.run();
    const records = t.crm.listRecords('contacts');
    expect(records).toHaveLength(12);
    for (const record of records) t.crm.updateRecord('contacts', record.id, { company: 'Acme' });
    // The CRM reads in modification order: records 0, 3, 6 and 9 of that order sit on four different pages.
    const edited = [0, 3, 6, 9].map((i) => records[i].fields.email as string);
    for (const email of edited) t.locals.edit(email, { firstName: `Edited ${email}` });
    t.counting.reset();
    return { t, edited };
  }

  it('writes four local edits found on four read pages in one batch, and both sides converge', async () => {
    const { t, edited } = await editedOnBothSides({ maxWriteBatch: 10 });

    const run = await t.run();

    expect(run.status).toBe('succeeded');
    expect(t.counting.calls.readChanges).toBeGreaterThanOrEqual(4);
    expect(t.counting.batchSizes).toEqual([4]);
    for (const email of edited) {
      expect(t.crmContact(email)?.fields).toMatchObject({ firstname: `Edited ${email}`, company: 'Acme' });
    }
    expect(t.locals.contacts.every((contact) => contact.values.company === 'Acme')).toBe(true);
    expect(run.counts.to_crm.contacts.updated).toBe(4);
    expect(run.counts.from_crm.contacts.updated).toBe(12);

    t.counting.reset();
    await t.run();
    expect(t.counting.calls.upsertBatch).toBe(0);
  });

  it('writes as soon as a full batch is held', async () => {
    const { t } = await editedOnBothSides({ maxWriteBatch: 2 });

    await t.run();

    expect(t.counting.batchSizes).toEqual([2, 2]);
  });

  it('a held write that fails keeps the cursor before its pages, and the next run writes the values', async () => {
    const { t, edited } = await editedOnBothSides({ maxWriteBatch: 10 });
    const cursorKey = [...t.cursors.states.keys()].find((key) => key.endsWith('|from_crm')) as string;
    const before = t.cursors.states.get(cursorKey)?.value;
    t.counting.failNext(
      'upsertBatch',
      new CrmError(CrmErrorCode.QUOTA_EXHAUSTED, 'daily limit', { retryAfterMs: 3_600_000 }),
    );

    const stopped = await t.run();

    expect(stopped).toMatchObject({ status: 'failed', failure: 'quota' });
    // The first page holds a push: the cursor may not pass it until that push is written.
    expect(t.cursors.states.get(cursorKey)?.value).toEqual(before);
    expect(t.crmContact(edited[0])?.fields.firstname).toBe('P0');

    const resumed = await t.run();
    expect(resumed.status).toBe('succeeded');
    for (const email of edited) expect(t.crmContact(email)?.fields.firstname).toBe(`Edited ${email}`);
    expect(t.locals.contacts.every((contact) => contact.values.company === 'Acme')).toBe(true);
  });
});
