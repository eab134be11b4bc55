import type { FieldMappingEntry, ObjectMapping } from '@pm/integration-port';
import type { FieldMappingSource } from './field-mapping';
import { DEFAULT_FORMULA_LIMITS } from './mapping-formulas';
import { inMemorySyncHarness } from './testing';

/**
 * A tenant's own mapping run by the engine against the in-memory CRM: per-field directions in both passes,
 * custom fields both ways, value maps both ways, formulas both ways, and a failing formula failing only its record.
 */
const mappingOf = (fields: FieldMappingEntry[]): FieldMappingSource => {
  const mapping: ObjectMapping = { object: 'contacts', emailField: 'email', fields };
  return { mappingFor: async (_connection, object) => (object === 'contacts' ? mapping : undefined) };
};

const email: FieldMappingEntry = { local: 'email', crm: 'email', direction: 'both', codec: 'email' };

describe('the engine with a tenant mapping', () => {
  it('honours per-field directions in both passes', async () => {
    const h = inMemorySyncHarness(
      {},
      {
        mappings: mappingOf([
          email,
          { local: 'firstName', crm: 'firstname', direction: 'to_crm', codec: 'text' },
          { local: 'lastName', crm: 'lastname', direction: 'from_crm', codec: 'text' },
        ]),
      },
    );
    h.crm.createRecord('contacts', { email: 'crm@example.com', firstname: 'Crm', lastname: 'Side' });
    h.locals.add('pm@example.com', { firstName: 'Pia', lastName: 'Local' });
    expect((await h.run()).status).toBe('succeeded');
    // to_crm: the local first name goes out, a CRM first name never comes in; from_crm the other way round.
    expect(h.crmContact('pm@example.com')?.fields).toMatchObject({ firstname: 'Pia' });
    expect(h.crmContact('pm@example.com')?.fields.lastname).toBeUndefined();
    expect(h.locals.byEmail('crm@example.com')?.values).toMatchObject({ firstName: null, lastName: 'Side' });

    h.locals.edit('crm@example.com', { firstName: 'Local', lastName: 'Edited' });
    const crmId = h.crmContact('crm@example.com')?.id as string;
    h.crm.updateRecord('contacts', crmId, { firstname: 'Remote', lastname: 'Changed' });
    expect((await h.run()).status).toBe('succeeded');
    expect(h.crmContact('crm@example.com')?.fields).toMatchObject({
      firstname: 'Local',
      lastname: 'Changed',
    });
    expect(h.locals.byEmail('crm@example.com')?.values).toMatchObject({
      firstName: 'Local',
      lastName: 'Changed',
    });
  });

  it('syncs a custom field both ways and translates a picklist through its value maps', async () => {
    const h = inMemorySyncHarness(
      {},
      {
        mappings: mappingOf([
          email,
          { local: 'customFields.employer', crm: 'company', direction: 'both', codec: 'text' },
          {
            local: 'lifecycleStage',
            crm: 'lifecyclestage',
            direction: 'both',
            codec: 'text',
            valueMap: {
              toCrm: { Prospect: 'lead', Won: 'customer' },
              fromCrm: { lead: 'Prospect', customer: 'Won' },
            },
          },
        ]),
      },
    );
    h.locals.add('pm@example.com', { 'customFields.employer': 'Acme', lifecycleStage: 'Prospect' });
    h.crm.createRecord('contacts', {
      email: 'crm@example.com',
      company: 'Globex',
      lifecyclestage: 'customer',
    });
    expect((await h.run()).status).toBe('succeeded');
    expect(h.crmContact('pm@example.com')?.fields).toMatchObject({ company: 'Acme', lifecyclestage: 'lead' });
    expect(h.locals.byEmail('crm@example.com')?.values).toMatchObject({
      'customFields.employer': 'Globex',
      lifecycleStage: 'Won',
    });
    // Settled: the next run writes nothing either way.
    const again = await h.run();
    expect(again.counts.to_crm?.contacts).toMatchObject({ created: 0, updated: 0 });
    expect(again.counts.from_crm?.contacts).toMatchObject({ created: 0, updated: 0 });
  });

  it('computes values with formulas in each direction', async () => {
    const h = inMemorySyncHarness(
      {},
      {
        mappings: mappingOf([
          email,
          {
            crm: 'company',
            direction: 'to_crm',
            codec: 'text',
            formula: { toCrm: "firstName & ' ' & lastName" },
          },
          {
            local: 'customFields.domain',
            direction: 'from_crm',
            codec: 'text',
            formula: { fromCrm: "$lowercase($substringAfter(email, '@'))" },
          },
        ]),
      },
    );
    h.locals.add('ada@example.com', { firstName: 'Ada', lastName: 'Lovelace' });
    h.crm.createRecord('contacts', { email: 'grace@NAVY.example' });
    expect((await h.run()).status).toBe('succeeded');
    expect(h.crmContact('ada@example.com')?.fields.company).toBe('Ada Lovelace');
    expect(h.locals.byEmail('grace@navy.example')?.values['customFields.domain']).toBe('navy.example');
    h.locals.edit('ada@example.com', { lastName: 'King' });
    await h.run();
    expect(h.crmContact('ada@example.com')?.fields.company).toBe('Ada King');
  });

  it('a formula that throws, runs too long, recurses without end or builds a huge range fails only its record', async () => {
    const h = inMemorySyncHarness(
      {},
      {
        // The default bound (200 ms): a tighter one could stop even the good record's formula on a busy machine.
        formulaLimits: DEFAULT_FORMULA_LIMITS,
        mappings: mappingOf([
          email,
          { local: 'firstName', crm: 'firstname', direction: 'both', codec: 'text' },
          {
            crm: 'company',
            direction: 'to_crm',
            codec: 'text',
            formula: {
              toCrm:
                "firstName = 'Bad' ? $error('no company for Bad') : firstName = 'Slow' ? $sum([1..10000].($i := $; $sum([1..10000].($ * $i)))) : firstName = 'Loop' ? ($f := function(){ $f() }; $f()) : firstName = 'Huge' ? $count([1..10000000]) : 'Fine Co'",
            },
          },
        ]),
      },
    );
    h.locals.add('bad@example.com', { firstName: 'Bad' });
    h.locals.add('slow@example.com', { firstName: 'Slow' });
    h.locals.add('loop@example.com', { firstName: 'Loop' });
    h.locals.add('huge@example.com', { firstName: 'Huge' });
    h.locals.add('good@example.com', { firstName: 'Good' });
    const outcome = await h.run();
    expect(outcome.status).toBe('partial');
    expect(outcome.counts.to_crm?.contacts).toMatchObject({ created: 1, errors: 4 });
    expect(h.crmContact('good@example.com')?.fields.company).toBe('Fine Co');
    expect(h.crmContact('bad@example.com')).toBeUndefined();
    expect(h.log.messages()).toEqual(
      expect.arrayContaining([
        'Contact not synced: bad@example.com → In-memory CRM: Formula for =company failed: no company for Bad',
        `Contact not synced: slow@example.com → In-memory CRM: Formula for =company failed: it ran longer than ${DEFAULT_FORMULA_LIMITS.timeoutMs} ms (stopped)`,
      ]),
    );
    expect(h.log.messages()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^Contact not synced: loop@example.com → .*failed: it (ran longer|nested deeper)/,
        ),
        'Contact not synced: huge@example.com → In-memory CRM: Formula for =company failed: it built a sequence longer than 100000 items',
      ]),
    );
    expect(h.retries.items.map((item) => item.recordKey).sort()).toEqual([
      'bad@example.com',
      'huge@example.com',
      'loop@example.com',
      'slow@example.com',
    ]);
  });

  it('a fromCrm formula that fails skips only its CRM record; the page and cursor go on', async () => {
    const h = inMemorySyncHarness(
      {},
      {
        mappings: mappingOf([
          email,
          {
            local: 'firstName',
            direction: 'from_crm',
            codec: 'text',
            formula: { fromCrm: "firstname = 'Bad' ? $error('cannot read Bad') : $uppercase(firstname)" },
          },
        ]),
      },
    );
    h.crm.createRecord('contacts', { email: 'bad@example.com', firstname: 'Bad' });
    h.crm.createRecord('contacts', { email: 'ok@example.com', firstname: 'Okay' });
    const outcome = await h.run();
    expect(outcome.status).toBe('partial');
    expect(outcome.counts.from_crm?.contacts).toMatchObject({ created: 1, errors: 1 });
    expect(h.locals.byEmail('ok@example.com')?.values.firstName).toBe('OKAY');
    expect(h.locals.byEmail('bad@example.com')).toBeUndefined();
    expect(h.log.messages()).toContain(
      'Contact not synced: bad@example.com ← In-memory CRM: Formula for firstName failed: cannot read Bad',
    );
    expect(h.retries.items).toEqual([
      expect.objectContaining({ direction: 'from_crm', recordKey: 'bad@example.com' }),
    ]);
  });
});
