import { TargetedSyncRunner, targetKey } from './targeted-sync';
import { inMemoryMappings, inMemorySyncHarness } from './testing';

/** The targeted sync on the in-memory CRM and stores, beside the scheduled runner of the same harness. */
function setup(settings: Parameters<typeof inMemorySyncHarness>[0] = {}, withCompanies = false) {
  const t = inMemorySyncHarness(settings, { companies: withCompanies });
  const targeted = new TargetedSyncRunner({
    port: t.counting.port,
    sessions: t.sessions,
    links: t.links,
    cursors: t.cursors,
    locals: t.locals,
    companies: withCompanies ? t.companies : undefined,
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
  return { ...t, targeted, runTargeted };
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

describe('TargetedSyncRunner: company hints (in-memory CRM and stores)', () => {
  const withCompanies = (settings: Parameters<typeof inMemorySyncHarness>[0] = {}) =>
    setup({ objects: ['contacts', 'companies'], ...settings }, true);

  it('reads a named company by id and applies it through the company inbound pass, moving no cursor', async () => {
    const t = withCompanies();
    const globex = t.crm.createRecord('companies', { name: 'Globex', domain: 'https://globex.com' });
    t.crm.createRecord('companies', { name: 'Initech' });
    t.counting.reset();

    const outcome = await t.runTargeted('companies', [globex.id, globex.id]);

    expect(outcome.status).toBe('succeeded');
    expect(outcome.records.get(targetKey('companies', globex.id))).toBe('present');
    expect(t.companies.byName('Globex')).toMatchObject({ domain: 'globex.com' });
    expect(t.companies.byName('Initech')).toBeUndefined();
    expect(outcome.counts.from_crm?.companies).toMatchObject({ created: 1 });
    expect(t.counting.calls.readChanges ?? 0).toBe(0);
    expect(t.counting.calls.getRecords).toBe(1);
    expect((await t.cursors.load(t.connection.id, 'companies', 'from_crm')).value).toBeNull();

    // A rename in the CRM follows the link; the scheduled run afterwards finds the pair in step.
    t.crm.updateRecord('companies', globex.id, { name: 'Globex Group' });
    await t.runTargeted('companies', [globex.id]);
    expect(t.companies.byName('Globex Group')).toMatchObject({ domain: 'globex.com' });
    expect(t.companies.companies).toHaveLength(1);
    const scheduled = await t.run();
    expect(scheduled.counts.from_crm?.companies).toMatchObject({ created: 1, updated: 0 });
    expect(t.companies.companies.filter((company) => !company.deletedAt)).toHaveLength(2);
  });

  it('keeps the conflict policy for companies: under penguinmails_wins the local name goes back', async () => {
    const t = withCompanies({ conflictPolicy: 'penguinmails_wins' });
    const acme = t.crm.createRecord('companies', { name: 'Acme', domain: 'acme.com' });
    await t.runTargeted('companies', [acme.id]);
    const [local] = t.companies.companies;
    t.crm.updateRecord('companies', acme.id, { name: 'Acme CRM' }, '2027-01-01T00:00:00.000Z');
    t.companies.edit(local.id, { name: 'Acme Local' });

    const outcome = await t.runTargeted('companies', [acme.id]);

    expect(outcome.counts.from_crm?.companies?.conflicts).toBe(1);
    expect(t.companies.companies[0].name).toBe('Acme Local');
    expect(t.crm.getRecord('companies', acme.id)?.fields.name).toBe('Acme Local');
  });

  it('treats a company as deleted only when the CRM no longer returns it, by propagateDeletes', async () => {
    for (const propagateDeletes of [false, true]) {
      const t = withCompanies({ propagateDeletes });
      const acme = t.crm.createRecord('companies', { name: 'Acme', domain: 'acme.com' });
      await t.runTargeted('companies', [acme.id]);
      const stillThere = await t.runTargeted('companies', [acme.id]);
      expect(stillThere.records.get(targetKey('companies', acme.id))).toBe('present');
      expect(await t.links.findByCrmIds(t.connection.id, 'companies', [acme.id])).toHaveLength(1);

      t.crm.deleteRecord('companies', acme.id);
      const gone = await t.runTargeted('companies', [acme.id]);
      expect(gone.records.get(targetKey('companies', acme.id))).toBe('gone');
      expect(gone.counts.from_crm?.companies?.deleted).toBe(1);
      expect(await t.links.findByCrmIds(t.connection.id, 'companies', [acme.id])).toHaveLength(0);
      expect(Boolean(t.companies.companies[0].deletedAt)).toBe(propagateDeletes);
    }
  });

  it('applies companies and contacts of one run, companies first; ignores companies the settings leave out', async () => {
    const t = withCompanies();
    const acme = t.crm.createRecord('companies', { name: 'Acme', domain: 'acme.com' });
    const ada = t.crm.createRecord('contacts', { email: 'ada@example.com', firstname: 'Ada' });
    const outcome = await t.targeted.runTargeted({
      connection: t.connection,
      runId: 'both',
      targets: [
        { object: 'contacts', crmIds: [ada.id] },
        { object: 'companies', crmIds: [acme.id] },
      ],
    });
    expect(outcome.records.get(targetKey('companies', acme.id))).toBe('present');
    expect(outcome.records.get(targetKey('contacts', ada.id))).toBe('present');
    expect(t.companies.byName('Acme')).toBeDefined();
    expect(t.locals.byEmail('ada@example.com')).toBeDefined();

    const contactsOnly = setup({ objects: ['contacts'] }, true);
    const initech = contactsOnly.crm.createRecord('companies', { name: 'Initech' });
    const ignored = await contactsOnly.runTargeted('companies', [initech.id]);
    expect(ignored.records.get(targetKey('companies', initech.id))).toBe('ignored');
    expect(contactsOnly.companies.companies).toHaveLength(0);

    const toCrm = withCompanies({ direction: 'to_crm' });
    const hooli = toCrm.crm.createRecord('companies', { name: 'Hooli' });
    const oneWay = await toCrm.runTargeted('companies', [hooli.id]);
    expect(oneWay.records.get(targetKey('companies', hooli.id))).toBe('ignored');
    expect(toCrm.companies.companies).toHaveLength(0);
  });
});
