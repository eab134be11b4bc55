import type { ObjectMapping } from './field-mapping';
import { IN_MEMORY_CONTACTS_MAPPING, inMemorySyncHarness } from './testing';
import { RECOMPARE_ALL, readPosition } from './unchanged-records';

/**
 * An incremental read leaves out records the CRM has not changed since they last synced (the previous run's own
 * writes read back): what must still come in does.
 */
describe('records unchanged since they last synced', () => {
  it('an edit made in the CRM after the run wrote the record is applied on the next read', async () => {
    const t = inMemorySyncHarness({}, { crmTickMs: 1_001 });
    for (const name of ['ann', 'bob', 'cy']) t.locals.add(`${name}@example.com`, { firstName: name });
    await t.run();
    // The first read found the CRM empty: this one reads the three writes back, and finds nothing to do.
    const echo = await t.run();
    expect(echo.counts.from_crm.contacts).toMatchObject({ created: 0, updated: 0, skipped: 3 });

    t.crm.updateRecord('contacts', t.crmContact('bob@example.com')?.id as string, { firstname: 'Robert' });
    const run = await t.run();

    expect(run.counts.from_crm.contacts.updated).toBe(1);
    expect(t.locals.byEmail('bob@example.com')?.values.firstName).toBe('Robert');
  });

  it('a CRM that stamps whole seconds has its same-second edit applied (its time cannot tell it from the write)', async () => {
    // The CRM's clock stands still: the write and the edit after it carry one and the same second.
    const t = inMemorySyncHarness({}, { crmTickMs: 0 });
    t.locals.add('ann@example.com', { firstName: 'Ann' });
    await t.run();
    t.crm.updateRecord('contacts', t.crmContact('ann@example.com')?.id as string, { firstname: 'Anna' });

    await t.run();

    expect(t.locals.byEmail('ann@example.com')?.values.firstName).toBe('Anna');
  });

  it('after a mapping change, the re-comparison pulls a newly mapped field of records unchanged since they synced', async () => {
    const withoutPhone: ObjectMapping = {
      ...IN_MEMORY_CONTACTS_MAPPING,
      fields: IN_MEMORY_CONTACTS_MAPPING.fields.filter((entry) => entry.local !== 'phone'),
    };
    let mapping = withoutPhone;
    const t = inMemorySyncHarness(
      {},
      {
        crmTickMs: 1_001,
        mappings: { mappingFor: (_, object) => (object === 'contacts' ? mapping : undefined) },
      },
    );
    t.crm.createRecord('contacts', { email: 'dee@example.com', firstname: 'Dee', phone: '+44 20 7946 0000' });
    await t.run();
    await t.run();
    expect(t.locals.byEmail('dee@example.com')?.values.phone ?? null).toBeNull();

    // What saving the mapping does (MappingRecomparison): the next read starts over and compares every record.
    mapping = IN_MEMORY_CONTACTS_MAPPING;
    const key = [...t.cursors.states.keys()].find((name) => name.endsWith('|contacts|from_crm')) as string;
    await t.cursors.save(key.split('|')[0], 'contacts', 'from_crm', RECOMPARE_ALL);
    await t.run();

    expect(t.locals.byEmail('dee@example.com')?.values.phone).toBe('+44 20 7946 0000');
    expect(t.cursors.states.get(key)?.value?.recompare).toBeUndefined();
  });

  it('a re-comparison stopped part-way resumes from where it was, still comparing every record', () => {
    expect(readPosition(RECOMPARE_ALL)).toEqual({ since: null, recompare: true });
    const partWay = { modifiedAt: '2026-01-01T00:00:05.000Z', lastId: '9', recompare: true as const };
    expect(readPosition(partWay)).toEqual({
      since: { modifiedAt: '2026-01-01T00:00:05.000Z', lastId: '9' },
      recompare: true,
    });
    const plain = { modifiedAt: '2026-01-01T00:00:05.000Z' };
    expect(readPosition(plain)).toEqual({ since: plain, recompare: false });
  });
});
