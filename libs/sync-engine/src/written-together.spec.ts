import type { UpsertBatchRequest } from '@pm/integration-port';
import { IN_MEMORY_CONTACTS_MAPPING as mapping, inMemorySyncHarness } from './testing';
import { withFieldsWrittenTogether } from './written-together';

const NAME_PARTS = { writtenTogether: [['firstname', 'lastname']] };
const at = '2026-01-01T00:00:00.000Z';
const synced = (value: string | null) => ({ value, side: 'crm' as const, at, rule: 'initial' as const });

describe('fields the CRM writes only together', () => {
  it("adds the group's other fields: the record's own value where known, else the link snapshot's", () => {
    const base = { firstName: synced('Ada'), lastName: synced('Byron') };
    expect(withFieldsWrittenTogether(NAME_PARTS, mapping, { lastname: 'Lovelace' }, { base })).toEqual({
      firstname: 'Ada',
      lastname: 'Lovelace',
    });
    expect(
      withFieldsWrittenTogether(
        NAME_PARTS,
        mapping,
        { lastname: 'Lovelace' },
        {
          base,
          crmFields: { firstname: 'Augusta' },
        },
      ),
    ).toEqual({ firstname: 'Augusta', lastname: 'Lovelace' });
    // A cleared part is a known value too.
    expect(
      withFieldsWrittenTogether(
        NAME_PARTS,
        mapping,
        { firstname: 'Ada' },
        { base: { lastName: synced(null) } },
      ),
    ).toEqual({ firstname: 'Ada', lastname: null });
  });

  it('leaves out what it does not know, and payloads that touch no group', () => {
    expect(withFieldsWrittenTogether(NAME_PARTS, mapping, { lastname: 'Lovelace' }, {})).toEqual({
      lastname: 'Lovelace',
    });
    expect(
      withFieldsWrittenTogether(
        NAME_PARTS,
        mapping,
        { title: 'Countess' },
        { base: { firstName: synced('Ada') } },
      ),
    ).toEqual({ title: 'Countess' });
    expect(
      withFieldsWrittenTogether(
        undefined,
        mapping,
        { lastname: 'L' },
        { base: { firstName: synced('Ada') } },
      ),
    ).toEqual({ lastname: 'L' });
  });

  it('an outbound update of one part carries the other from the link snapshot, so no read is needed', async () => {
    const t = inMemorySyncHarness();
    const capabilities = t.connector.capabilities();
    jest.spyOn(t.connector, 'capabilities').mockReturnValue({
      ...capabilities,
      objects: capabilities.objects.map((object) =>
        object.name === 'contacts' ? { ...object, ...NAME_PARTS } : object,
      ),
    });
    t.crm.createRecord('contacts', { email: 'ada@example.com', firstname: 'Ada', lastname: 'Byron' });
    await t.run();
    const upserts = jest.spyOn(t.connector, 'upsertBatch');

    t.locals.edit('ada@example.com', { lastName: 'Lovelace' });
    const run = await t.run();

    expect(run.counts.to_crm.contacts.updated).toBe(1);
    const written = upserts.mock.calls.map(([, request]) => (request as UpsertBatchRequest).records);
    expect(written).toEqual([
      [expect.objectContaining({ fields: { firstname: 'Ada', lastname: 'Lovelace' } })],
    ]);
    expect(t.crmContact('ada@example.com')?.fields).toMatchObject({ firstname: 'Ada', lastname: 'Lovelace' });
  });
});
