import { IN_MEMORY_DEFAULT_COMPANY_MAPPINGS } from '@pm/integration-port/testing';
import {
  companyMappingAsObjectMapping,
  crmCompanyValues,
  localCompanyValues,
  type CompanyObjectMapping,
} from './company-mapping';
import { previewMapping } from './mapping-preview';
import { inMemorySyncHarness } from './testing';

const DEFAULTS = IN_MEMORY_DEFAULT_COMPANY_MAPPINGS.companies;

/**
 * A tenant's company mapping with a formula each way: the CRM's `tier` computed from the company's name and a
 * custom field, and the company's `customFields.manager` computed from the CRM's `owner`.
 */
const withFormulas = (toCrm: string, fromCrm = "'Owner: ' & $uppercase(owner)"): CompanyObjectMapping => ({
  ...DEFAULTS,
  fields: [
    ...DEFAULTS.fields,
    { crm: 'tier', direction: 'to_crm', codec: 'text', formula: { toCrm } },
    { local: 'customFields.manager', direction: 'from_crm', codec: 'text', formula: { fromCrm } },
  ],
});
const LABEL = "$uppercase(name) & ' (' & customFields.region & ')'";

const setup = (mapping: CompanyObjectMapping) =>
  inMemorySyncHarness(
    { objects: ['contacts', 'companies'] },
    { companies: true, companyMappings: { companyMappingFor: () => mapping } },
  );

describe('company formulas', () => {
  it('evaluate over the company (name, domain, customFields) to the CRM and over the CRM record back', async () => {
    const mapping = withFormulas(LABEL);
    const local = await localCompanyValues(mapping, {
      name: 'Acme',
      domain: 'acme.com',
      'customFields.region': 'EMEA',
    });
    expect(local).toMatchObject({ '=tier': 'ACME (EMEA)', name: 'Acme' });
    expect(await crmCompanyValues(mapping, { name: 'Acme', domain: 'acme.com', owner: 'grace' })).toEqual({
      name: 'Acme',
      domain: 'acme.com',
      // The to_crm entry's CRM field, as read, for the planner's comparison.
      '=tier': null,
      'customFields.manager': 'Owner: GRACE',
    });
  });

  it('a domain computed by a fromCrm formula goes through the domain codec', async () => {
    const mapping: CompanyObjectMapping = {
      ...DEFAULTS,
      fields: [
        DEFAULTS.fields[0],
        {
          local: 'customFields.site',
          direction: 'from_crm',
          codec: 'domain',
          formula: { fromCrm: "'https://WWW.' & slug & '.example/about'" },
        },
      ],
    };
    expect(await crmCompanyValues(mapping, { name: 'Acme', slug: 'Acme' })).toEqual({
      name: 'Acme',
      'customFields.site': 'acme.example',
    });
  });

  it('sync both ways through the engine, follow a rename, then settle', async () => {
    const t = setup(withFormulas(LABEL));
    const acme = t.companies.add('Acme', 'acme.com');
    t.companies.edit(acme.id, { customFields: { region: 'EMEA' } });
    expect((await t.run()).status).toBe('succeeded');
    const [record] = t.crm.listRecords('companies');
    expect(record.fields).toMatchObject({ name: 'Acme', tier: 'ACME (EMEA)' });

    t.crm.updateRecord('companies', record.id, { owner: 'grace' });
    t.companies.edit(acme.id, { name: 'Acme Ltd' });
    expect((await t.run()).status).toBe('succeeded');
    expect(t.companies.companies[0].customFields).toEqual({ region: 'EMEA', manager: 'Owner: GRACE' });
    expect(t.crm.getRecord('companies', record.id)?.fields).toMatchObject({ tier: 'ACME LTD (EMEA)' });

    t.counting.reset();
    expect((await t.run()).status).toBe('succeeded');
    expect(t.counting.writes()).toBe(0);
  });

  it('a toCrm formula that throws fails only its company: logged with its message, retried, the rest synced', async () => {
    const t = setup(
      withFormulas(
        "customFields.region ? name & ' / ' & customFields.region : $error('no region for ' & name)",
      ),
    );
    const good = t.companies.add('Good', 'good.example');
    t.companies.edit(good.id, { customFields: { region: 'EMEA' } });
    const bad = t.companies.add('Bad', 'bad.example');

    const first = await t.run();
    expect(first.status).toBe('partial');
    expect(first.counts.to_crm?.companies).toMatchObject({ created: 1, errors: 1 });
    expect(t.crm.listRecords('companies').map((record) => record.fields.tier)).toEqual(['Good / EMEA']);
    expect(t.log.messages()).toContain(
      'Company not synced: bad.example → In-memory CRM: Formula for =tier failed: no region for Bad',
    );
    expect((await t.retries.list(t.connection.id, 'to_crm')).map((item) => item.recordId)).toEqual([bad.id]);

    t.companies.edit(bad.id, { customFields: { region: 'APAC' } });
    expect((await t.run()).status).toBe('succeeded');
    expect(
      t.crm
        .listRecords('companies')
        .map((record) => record.fields.tier)
        .sort(),
    ).toEqual(['Bad / APAC', 'Good / EMEA']);
    expect(await t.retries.list(t.connection.id, 'to_crm')).toEqual([]);
  });

  it('a fromCrm formula that runs away fails only its CRM company, stopped at its bound; the page goes on', async () => {
    const runaway = "owner = 'loop' ? ($f := function($n){ $f($n + 1) }; $f(0)) : $uppercase(owner)";
    const t = setup(withFormulas(LABEL, runaway));
    t.crm.createRecord('companies', { name: 'Small', domain: 'small.example', owner: 'ada' });
    const big = t.crm.createRecord('companies', { name: 'Big', domain: 'big.example', owner: 'loop' });

    const first = await t.run();
    expect(first.status).toBe('partial');
    expect(t.companies.companies.map((company) => [company.name, company.customFields])).toEqual([
      ['Small', { manager: 'ADA' }],
    ]);
    const failure = t.log.messages().find((message) => message.includes('big.example'));
    expect(failure).toMatch(
      /^Company not synced: big\.example ← In-memory CRM: Formula for customFields\.manager failed: it (nested deeper than 250 levels|ran longer than 200 ms)/,
    );
    expect((await t.retries.list(t.connection.id, 'from_crm')).map((item) => item.recordId)).toEqual([
      big.id,
    ]);

    // Fixed in the CRM: the next run's read applies it and takes the company off the retry list.
    t.crm.updateRecord('companies', big.id, { owner: 'bob' });
    await t.run();
    expect(t.companies.byName('Big')?.customFields).toEqual({ manager: 'BOB' });
    expect(await t.retries.list(t.connection.id, 'from_crm')).toEqual([]);
    expect((await t.run()).status).toBe('succeeded');
  });

  it('preview shows each company formula’s value, or its error on its own field', async () => {
    const mapping = companyMappingAsObjectMapping(withFormulas(LABEL, '$error("no owner field")'));
    const previews = await previewMapping(mapping, {
      local: { name: 'Acme', domain: 'acme.com', 'customFields.region': 'EMEA' },
      crm: { name: 'Acme', domain: 'acme.com' },
      subject: 'company',
    });
    expect(previews.find((preview) => preview.key === '=tier')?.toCrm).toEqual({ value: 'ACME (EMEA)' });
    expect(previews.find((preview) => preview.key === 'customFields.manager')?.fromCrm).toEqual({
      error: 'Formula for customFields.manager failed: no owner field',
    });
  });
});
