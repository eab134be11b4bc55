import { CrmError, CrmErrorCode } from '@pm/integration-port';
import { IN_MEMORY_DEFAULT_COMPANY_MAPPINGS } from '@pm/integration-port/testing';
import { ConflictResolver } from './conflict-resolver';
import {
  companyKey,
  companyObjectToSync,
  decodeCompany,
  matchingCompanies,
  normaliseDomain,
  planCompany,
  sameCompany,
  type CompanyMappingSource,
  type CompanyObjectMapping,
} from './company-mapping';
import { inMemorySyncHarness } from './testing';

const MAPPING = IN_MEMORY_DEFAULT_COMPANY_MAPPINGS.companies;

describe('company matching and planning', () => {
  it('keys a company by its domain, else its normalised name', () => {
    expect(normaliseDomain('https://www.Acme.com:8443/about?x')).toBe('acme.com');
    expect(normaliseDomain('  ')).toBeNull();
    expect(companyKey({ name: 'Acme', domain: 'HTTP://acme.com/' })).toBe('domain:acme.com');
    expect(companyKey({ name: '  Acme   Corp ' })).toBe('name:acme corp');
    expect(companyKey({ name: ' ' })).toBeNull();
  });

  it('matches by domain when both have one, by name otherwise; two domains are two companies', () => {
    expect(
      sameCompany({ name: 'Acme', domain: 'acme.com' }, { name: 'ACME Inc', domain: 'www.acme.com' }),
    ).toBe(true);
    expect(sameCompany({ name: 'Acme', domain: 'acme.com' }, { name: 'Acme', domain: 'acme.org' })).toBe(
      false,
    );
    expect(sameCompany({ name: 'Acme  Corp' }, { name: 'acme corp', domain: 'acme.com' })).toBe(true);
    const found = [
      { id: 'by-name', name: 'Acme', domain: null },
      { id: 'by-domain', name: 'Acme Holdings', domain: 'acme.com' },
    ];
    // The one with the domain wins over a name-only match.
    expect(matchingCompanies({ name: 'Acme', domain: 'acme.com' }, found, (c) => c).map((c) => c.id)).toEqual(
      ['by-domain'],
    );
  });

  it('plans a company three ways like a contact: only the side that moved is written, conflicts by policy', () => {
    const at = '2026-01-02T00:00:00Z';
    const base = {
      name: { value: 'Acme', side: 'crm' as const, at, rule: 'initial' as const },
      domain: { value: 'acme.com', side: 'crm' as const, at, rule: 'initial' as const },
    };
    const renamedLocally = planCompany({
      mapping: MAPPING,
      direction: 'bidirectional',
      resolver: new ConflictResolver('crm_wins'),
      base,
      local: { values: { name: 'Acme Ltd', domain: 'acme.com' }, modifiedAt: at },
      crm: { values: { name: 'Acme', domain: 'acme.com' }, modifiedAt: at },
      at,
    });
    expect(renamedLocally.toCrm).toEqual({ name: 'Acme Ltd' });
    expect(renamedLocally.toLocal).toEqual({});
    const bothRenamed = planCompany({
      mapping: MAPPING,
      direction: 'bidirectional',
      resolver: new ConflictResolver('crm_wins'),
      base,
      local: { values: { name: 'Acme Ltd', domain: 'acme.com' }, modifiedAt: at },
      crm: { values: { name: 'Acme Group', domain: 'acme.com' }, modifiedAt: at },
      at,
    });
    expect(bothRenamed.toLocal).toEqual({ name: 'Acme Group' });
    expect(bothRenamed.conflicts).toHaveLength(1);
  });

  it('takes a field the CRM did not return as unchanged, never as cleared', () => {
    const at = '2026-01-02T00:00:00Z';
    const base = { domain: { value: 'acme.com', side: 'crm' as const, at, rule: 'initial' as const } };
    expect(decodeCompany(MAPPING, { name: 'Acme' }, base)).toEqual({ name: 'Acme', domain: 'acme.com' });
    expect(decodeCompany(MAPPING, { name: 'Acme', domain: null }, base)).toEqual({
      name: 'Acme',
      domain: null,
    });
    expect(decodeCompany(MAPPING, { name: 'Acme' })).toEqual({ name: 'Acme', domain: null });
  });

  it('syncs companies only when the settings select a company object the connector maps', async () => {
    const capabilities = {
      provider: 'in-memory',
      objects: [
        {
          name: 'contacts',
          label: 'C',
          role: 'contact' as const,
          reportsDeletions: true,
          upsertByEmail: true,
        },
        {
          name: 'companies',
          label: 'Co',
          role: 'company' as const,
          reportsDeletions: true,
          upsertByEmail: false,
        },
      ],
      defaultCompanyMappings: IN_MEMORY_DEFAULT_COMPANY_MAPPINGS,
    };
    const connection = { id: 'c1', tenantId: 't1', provider: 'in-memory' };
    expect(await companyObjectToSync(capabilities, connection, ['contacts'])).toBeUndefined();
    expect((await companyObjectToSync(capabilities, connection, ['contacts', 'companies']))?.object).toBe(
      'companies',
    );
    expect(
      await companyObjectToSync({ ...capabilities, defaultCompanyMappings: {} }, connection, ['companies']),
    ).toBeUndefined();
  });
});

describe('company sync with the in-memory CRM', () => {
  const setup = (propagateDeletes = false) =>
    inMemorySyncHarness({ objects: ['contacts', 'companies'], propagateDeletes }, { companies: true });
  const crmCompanies = (t: ReturnType<typeof setup>) => t.crm.listRecords('companies');

  it('syncs companies both ways, creates a contact’s missing company once and associates the contact with it', async () => {
    const t = setup();
    const globex = t.crm.createRecord('companies', { name: 'Globex', domain: 'https://globex.com' });
    t.companies.add('Acme', 'acme.com');
    const ada = t.locals.add('ada@example.com', { firstName: 'Ada', company: 'Initech' });

    const first = await t.run();
    expect(first.status).toBe('succeeded');
    expect(t.companies.byName('Globex')).toMatchObject({ domain: 'globex.com' });
    const names = crmCompanies(t).map((record) => record.fields.name);
    expect(names.sort()).toEqual(['Acme', 'Globex', 'Initech']);
    const initech = crmCompanies(t).find((record) => record.fields.name === 'Initech');
    expect(t.crmContact('ada@example.com')?.associations).toEqual({ companies: [initech?.id] });
    expect(first.counts.to_crm?.companies).toMatchObject({ created: 2, errors: 0 });
    expect(first.counts.from_crm?.companies).toMatchObject({ created: 1 });

    // Settled: the next run writes nothing and creates nothing.
    t.counting.reset();
    const associate = jest.spyOn(t.connector, 'associateRecords');
    const second = await t.run();
    expect(second.status).toBe('succeeded');
    expect(t.counting.writes()).toBe(0);
    expect(associate).not.toHaveBeenCalled();
    expect(crmCompanies(t)).toHaveLength(3);
    expect(t.companies.companies).toHaveLength(3);
    expect(t.links.links.filter((link) => link.crmObject === 'companies')).toHaveLength(3);
    expect(globex.id).toBeDefined();
    expect(ada.id).toBeDefined();
  });

  it('a first read takes the contacts’ company names from the companies it just read, not from a second read', async () => {
    const t = setup();
    const acme = t.crm.createRecord('companies', { name: 'Acme', domain: 'acme.com' });
    const globex = t.crm.createRecord('companies', { name: 'Globex' });
    for (let i = 0; i < 4; i++) {
      const contact = t.crm.createRecord('contacts', { email: `c${i}@example.com`, firstname: `C${i}` });
      t.associating.associate(contact.id, [i % 2 === 0 ? acme.id : globex.id]);
    }

    expect((await t.run()).status).toBe('succeeded');

    expect(t.counting.calls.getRecords).toBe(0);
    expect(t.locals.byEmail('c0@example.com')?.values.company).toBe('Acme');
    expect(t.locals.byEmail('c1@example.com')?.values.company).toBe('Globex');

    // A company renamed locally is written back by the company pass: its contacts are not given the old name.
    const local = t.companies.byName('Acme');
    t.companies.edit(local?.id as string, { name: 'Acme Ltd' });
    t.crm.updateRecord('companies', acme.id, { domain: 'acme.co.uk' });
    t.crm.updateRecord('contacts', t.crmContact('c0@example.com')?.id as string, { firstname: 'Cee' });
    await t.run();
    expect(t.crm.getRecord('companies', acme.id)?.fields.name).toBe('Acme Ltd');
    expect(t.locals.byEmail('c0@example.com')?.values).toMatchObject({
      firstName: 'Cee',
      company: 'Acme Ltd',
    });
  });

  it('links a local company to the CRM company with its domain or name instead of creating a second one', async () => {
    const t = setup();
    t.crm.createRecord('companies', { name: 'ACME Corporation', domain: 'www.acme.com' });
    t.crm.createRecord('companies', { name: 'Hooli' });
    t.companies.add('Acme', 'acme.com');
    t.companies.add('  hooli ');
    t.locals.add('bob@example.com', { company: 'HOOLI' });

    expect((await t.run()).status).toBe('succeeded');
    expect(crmCompanies(t)).toHaveLength(2);
    expect(t.companies.companies).toHaveLength(2);
    const hooli = crmCompanies(t).find((record) => record.fields.name === 'Hooli');
    expect(t.crmContact('bob@example.com')?.associations).toEqual({ companies: [hooli?.id] });
  });

  it('a create whose answer was lost is looked up again on the retry, never made twice', async () => {
    const t = setup();
    t.companies.add('Lost Answer Ltd', 'lost.example');
    t.counting.failNext('upsertBatch', new CrmError(CrmErrorCode.TIMEOUT, 'no answer in 30 s'), {
      after: 'call',
    });

    const run = await t.run();
    expect(run.status).toBe('succeeded');
    expect(run.retriedCalls).toBe(1);
    expect(crmCompanies(t)).toHaveLength(1);
    const [link] = t.links.links.filter((candidate) => candidate.crmObject === 'companies');
    expect(link.crmId).toBe(crmCompanies(t)[0].id);
  });

  it('follows renames both ways', async () => {
    const t = setup();
    const local = t.companies.add('Acme', 'acme.com');
    await t.run();
    const [record] = crmCompanies(t);

    t.companies.edit(local.id, { name: 'Acme Ltd' });
    await t.run();
    expect(t.crm.getRecord('companies', record.id)?.fields.name).toBe('Acme Ltd');

    t.crm.updateRecord('companies', record.id, { name: 'Acme Group' });
    await t.run();
    expect(t.companies.companies[0].name).toBe('Acme Group');
    expect(crmCompanies(t)).toHaveLength(1);
  });

  it('a company deleted in the CRM is unlinked and kept locally; with propagateDeletes it goes locally too', async () => {
    for (const propagate of [false, true]) {
      const t = setup(propagate);
      t.companies.add('Acme', 'acme.com');
      await t.run();
      const [record] = crmCompanies(t);
      t.crm.deleteRecord('companies', record.id);
      const run = await t.run();
      expect(run.counts.from_crm?.companies?.deleted).toBe(1);
      expect(Boolean(t.companies.companies[0].deletedAt)).toBe(propagate);
      // Not created again: its deletion in the CRM stands.
      await t.run();
      expect(crmCompanies(t)).toHaveLength(0);
    }
  });

  it('a company deleted in PenguinMails is deleted in the CRM with propagateDeletes, else only unlinked', async () => {
    for (const propagate of [false, true]) {
      const t = setup(propagate);
      const local = t.companies.add('Acme', 'acme.com');
      await t.run();
      t.companies.edit(local.id, { deleted: true });
      const run = await t.run();
      expect(run.counts.to_crm?.companies?.deleted).toBe(1);
      expect(crmCompanies(t)).toHaveLength(propagate ? 0 : 1);
    }
  });
  it('keeps (only unlinks) a CRM company that contacts still belong to, even with propagateDeletes', async () => {
    const t = setup(true);
    const acme = t.companies.add('Acme', 'acme.com');
    t.locals.add('ada@example.com', { company: 'Acme' });
    await t.run();
    t.companies.edit(acme.id, { deleted: true });
    const run = await t.run();
    expect(run.counts.to_crm?.companies?.deleted).toBe(1);
    expect(crmCompanies(t)).toHaveLength(1);
    expect(t.log.lines.map((line) => line.message)).toContain(
      'Company unlinked: acme.com was deleted in PenguinMails; kept in In-memory CRM because 1 contact(s) still belong to it',
    );
  });
  it('a look-up the CRM refuses for its data fails those companies (logged, retried), never the run', async () => {
    const t = setup();
    t.companies.add('Acme', 'acme.com');
    const refuse = jest
      .spyOn(t.connector, 'findCompanies')
      .mockRejectedValueOnce(new CrmError(CrmErrorCode.VALIDATION_FAILED, 'term: Search term too short'));
    const run = await t.run();
    expect(run.status).toBe('partial');
    expect(t.log.messages()).toContain(
      'Company not synced: acme.com → In-memory CRM: term: Search term too short',
    );
    expect(crmCompanies(t)).toHaveLength(0);
    refuse.mockRestore();
    expect((await t.run()).status).toBe('succeeded');
    expect(crmCompanies(t)).toHaveLength(1);
  });
  it('an association the CRM refuses is logged and tried again next run, then taken off the retry list', async () => {
    const t = setup();
    t.locals.add('ada@example.com', { company: 'Initech' });
    const refuse = jest
      .spyOn(t.connector, 'associateRecords')
      .mockImplementationOnce(async (_session, request) =>
        request.pairs.map((pair) => ({
          id: pair.id,
          ok: false as const,
          error: {
            code: CrmErrorCode.VALIDATION_FAILED,
            message: 'INVALID_CROSS_REFERENCE_KEY: no such company',
          },
        })),
      );
    const first = await t.run();
    expect(first.status).toBe('partial');
    expect(t.crmContact('ada@example.com')?.associations).toBeUndefined();
    expect(t.log.messages().some((m) => m.includes('INVALID_CROSS_REFERENCE_KEY: no such company'))).toBe(
      true,
    );
    refuse.mockRestore();

    expect((await t.run()).status).toBe('succeeded');
    const initech = crmCompanies(t).find((record) => record.fields.name === 'Initech');
    expect(t.crmContact('ada@example.com')?.associations).toEqual({ companies: [initech?.id] });
    expect(await t.retries.list(t.connection.id, 'to_crm')).toEqual([]);
  });
});

describe('company sync with a tenant company mapping', () => {
  /** The tenant's mapping, as a stored source serves it: defaults plus custom fields, one per direction. */
  const tenantMapping: CompanyObjectMapping = {
    ...MAPPING,
    fields: [
      ...MAPPING.fields,
      { local: 'customFields.tier', crm: 'tier', direction: 'both', codec: 'text' },
      { local: 'customFields.region', crm: 'region', direction: 'to_crm', codec: 'text' },
      { local: 'customFields.owner', crm: 'owner', direction: 'from_crm', codec: 'text' },
    ],
  };
  /** With a value map each way on the tier (PenguinMails words ↔ CRM codes). */
  const valueMapped: CompanyObjectMapping = {
    ...MAPPING,
    fields: [
      ...MAPPING.fields,
      {
        local: 'customFields.tier',
        crm: 'tier',
        direction: 'both',
        codec: 'text',
        valueMap: { toCrm: { gold: 'T1', silver: 'T2' }, fromCrm: { T1: 'gold', T2: 'silver' } },
      },
    ],
  };
  const asked: string[] = [];
  const source: CompanyMappingSource = {
    companyMappingFor: async (connection, object) => {
      asked.push(`${connection.id}:${object}`);
      return object === 'companies' ? tenantMapping : undefined;
    },
  };
  const setup = () =>
    inMemorySyncHarness({ objects: ['contacts', 'companies'] }, { companies: true, companyMappings: source });

  it('syncs a custom company field both ways and honours each field’s direction', async () => {
    const t = setup();
    const acme = t.companies.add('Acme', 'acme.com');
    t.companies.edit(acme.id, { customFields: { tier: 'gold', region: 'EMEA', owner: 'local owner' } });
    const first = await t.run();
    expect([first.status, ...t.log.messages()]).toEqual([
      'succeeded',
      'Company synced: acme.com → In-memory CRM',
    ]);
    expect(asked).toContain(`${t.connection.id}:companies`);
    const [record] = t.crm.listRecords('companies');
    // both and to_crm are written; from_crm is never written to the CRM.
    expect(record.fields).toMatchObject({ name: 'Acme', tier: 'gold', region: 'EMEA' });
    expect(record.fields.owner).toBeUndefined();

    t.crm.updateRecord('companies', record.id, { tier: 'platinum', region: 'APAC', owner: 'Grace' });
    expect((await t.run()).status).toBe('succeeded');
    // both and from_crm are applied locally; the to_crm region keeps its PenguinMails value.
    expect(t.companies.companies[0].customFields).toEqual({
      tier: 'platinum',
      region: 'EMEA',
      owner: 'Grace',
    });
    expect(t.crm.getRecord('companies', record.id)?.fields.region).toBe('APAC');
  });

  it('translates a company field through its value map both ways', async () => {
    const t = inMemorySyncHarness(
      { objects: ['contacts', 'companies'] },
      { companies: true, companyMappings: { companyMappingFor: () => valueMapped } },
    );
    const acme = t.companies.add('Acme', 'acme.com');
    t.companies.edit(acme.id, { customFields: { tier: 'gold' } });
    await t.run();
    const [record] = t.crm.listRecords('companies');
    expect(record.fields.tier).toBe('T1');
    t.crm.updateRecord('companies', record.id, { tier: 'T2' });
    await t.run();
    expect(t.companies.companies[0].customFields).toEqual({ tier: 'silver' });
    // Settled: the translated values compare equal, nothing more is written.
    t.counting.reset();
    await t.run();
    expect(t.counting.writes()).toBe(0);
  });
});
