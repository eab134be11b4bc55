import { TargetedSyncRunner, targetKey } from './targeted-sync';
import { inMemoryMappings, inMemorySyncHarness } from './testing';

/** The targeted sync on the in-memory CRM and stores, beside the scheduled runner of the same harness. */
function setup(settings: Parameters<typeof inMemorySyncHarness>[0] = {}) {
  const t = inMemorySyncHarness(settings);
  const targeted = new TargetedSyncRunner({
    port: t.counting.port,
    sessions: t.sessions,
    links: t.links,
    cursors: t.cursors,
    locals: t.locals,
    retries: t.retries,
    log: t.log,
    mappings: inMemoryMappings,
    options: { sleep: async () => undefined },
  });
  let runs = 0;
  const runTargeted = (object: string, crmIds: string[]) =>
    targeted.runTargeted({
      connection: t.connection,
      runId: `targeted-${++runs}`,
      targets: [{ object, crmIds }],
    });
  return { ...t, runTargeted };
}

describe('TargetedSyncRunner (in-memory CRM and stores)', () => {
  it('reads only the named records by id and applies them by the scheduled sync rules, moving no cursor', async () => {
    const t = setup();
    const named = t.crm.createRecord('contacts', { email: 'named@example.com', firstname: 'Nia' });
    t.crm.createRecord('contacts', { email: 'other@example.com', firstname: 'Otto' });
    t.counting.reset();

    const outcome = await t.runTargeted('contacts', [named.id, named.id]);

    expect(outcome.status).toBe('succeeded');
    expect(outcome.records.get(targetKey('contacts', named.id))).toBe('present');
    expect(t.locals.byEmail('named@example.com')?.values).toMatchObject({ firstName: 'Nia' });
    expect(t.locals.byEmail('other@example.com')).toBeUndefined();
    expect(t.counting.calls.readChanges ?? 0).toBe(0);
    expect(t.counting.calls.getRecords).toBe(1);
    expect((await t.cursors.load(t.connection.id, 'contacts', 'from_crm')).value).toBeNull();

    // The scheduled run afterwards finds the record linked and in step: nothing to write for it.
    const scheduled = await t.run();
    expect(scheduled.counts.from_crm.contacts.created).toBe(1);
    expect(scheduled.counts.from_crm.contacts.updated).toBe(0);
  });

  it('keeps the conflict policy: under penguinmails_wins a local edit beats the CRM one and goes back', async () => {
    const t = setup({ conflictPolicy: 'penguinmails_wins' });
    const record = t.crm.createRecord('contacts', { email: 'c@example.com', firstname: 'Cal' });
    await t.runTargeted('contacts', [record.id]);
    t.crm.updateRecord('contacts', record.id, { firstname: 'Carl' }, '2027-01-01T00:00:00.000Z');
    t.locals.edit('c@example.com', { firstName: 'Carla' });

    const outcome = await t.runTargeted('contacts', [record.id]);

    expect(outcome.counts.from_crm.contacts.conflicts).toBe(1);
    expect(t.locals.byEmail('c@example.com')?.values.firstName).toBe('Carla');
    expect(t.crm.getRecord('contacts', record.id)?.fields.firstname).toBe('Carla');
  });

  it('treats a record as deleted only when the CRM no longer returns it', async () => {
    const t = setup();
    const record = t.crm.createRecord('contacts', { email: 'd@example.com', firstname: 'Dee' });
    await t.runTargeted('contacts', [record.id]);
    expect(await t.links.findByCrmIds(t.connection.id, 'contacts', [record.id])).toHaveLength(1);

    // Still in the CRM: whatever a hint claimed, the link stays.
    const stillThere = await t.runTargeted('contacts', [record.id]);
    expect(stillThere.records.get(targetKey('contacts', record.id))).toBe('present');
    expect(await t.links.findByCrmIds(t.connection.id, 'contacts', [record.id])).toHaveLength(1);

    t.crm.deleteRecord('contacts', record.id);
    const gone = await t.runTargeted('contacts', [record.id]);
    expect(gone.records.get(targetKey('contacts', record.id))).toBe('gone');
    expect(gone.counts.from_crm.contacts.deleted).toBe(1);
    expect(await t.links.findByCrmIds(t.connection.id, 'contacts', [record.id])).toHaveLength(0);
    // Without propagateDeletes the local contact stays.
    expect(t.locals.byEmail('d@example.com')?.deletedAt ?? null).toBeNull();
  });

  it('ignores objects the connection does not sync and connections that only write to the CRM', async () => {
    const toCrm = setup({ direction: 'to_crm' });
    const record = toCrm.crm.createRecord('contacts', { email: 'e@example.com' });
    const outcome = await toCrm.runTargeted('contacts', [record.id]);
    expect(outcome.records.get(targetKey('contacts', record.id))).toBe('ignored');
    expect(toCrm.locals.byEmail('e@example.com')).toBeUndefined();

    const t = setup();
    const other = await t.runTargeted('companies', ['1']);
    expect(other.status).toBe('succeeded');
    expect(other.records.get(targetKey('companies', '1'))).toBe('ignored');
  });
});
