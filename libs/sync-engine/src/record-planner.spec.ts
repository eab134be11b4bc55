import type { FieldProvenance } from '@pm/domain/model';
import { ConflictResolver } from './conflict-resolver';
import type { ObjectMapping } from './field-mapping';
import { detectFieldChange, planRecord, type PlanInput } from './record-planner';
import { IN_MEMORY_CONTACTS_MAPPING } from './testing';

const base = (value: string | null): FieldProvenance => ({
  value,
  side: 'crm',
  at: '2026-01-01T00:00:00.000Z',
  rule: 'initial',
});

const input = (overrides: Partial<PlanInput>): PlanInput => ({
  mapping: IN_MEMORY_CONTACTS_MAPPING,
  direction: 'bidirectional',
  resolver: new ConflictResolver('crm_wins'),
  local: { values: {}, modifiedAt: '2026-01-02T00:00:00Z' },
  at: '2026-01-03T00:00:00.000Z',
  ...overrides,
});

describe('detectFieldChange (three-way)', () => {
  it.each([
    ['A', 'A', 'A', 'none'],
    ['A', 'B', 'A', 'local'],
    ['A', 'A', 'B', 'crm'],
    ['A', 'B', 'B', 'converged'],
    ['A', 'B', 'C', 'conflict'],
    ['A', null, 'A', 'local'],
  ] as const)('base %s, local %s, CRM %s → %s', (b, local, crm, expected) => {
    expect(detectFieldChange(base(b), local, crm)).toBe(expected);
  });

  it('on first link, a value on one side only flows to the other; two different values conflict', () => {
    expect(detectFieldChange(undefined, null, 'X')).toBe('crm');
    expect(detectFieldChange(undefined, 'X', null)).toBe('local');
    expect(detectFieldChange(undefined, 'X', 'X')).toBe('converged');
    expect(detectFieldChange(undefined, 'X', 'Y')).toBe('conflict');
  });
});

describe('planRecord', () => {
  it('treats the engine’s own write coming back from the CRM as no change (no loop)', () => {
    const synced = { email: base('a@x.com'), firstName: { ...base('Ann'), side: 'penguinmails' as const } };
    const plan = planRecord(
      input({
        base: synced,
        local: { values: { email: 'a@x.com', firstName: 'Ann' }, modifiedAt: '2026-01-02T00:00:00Z' },
        crm: { values: { email: 'a@x.com', firstName: 'Ann' }, modifiedAt: '2026-01-05T00:00:00Z' },
      }),
    );
    expect(plan.toCrm).toEqual({});
    expect(plan.toLocal).toEqual({});
    expect(plan.conflicts).toEqual([]);
  });

  it('pushes only the locally changed field and pulls only the CRM-changed one, with provenance', () => {
    const plan = planRecord(
      input({
        base: { firstName: base('Ann'), company: base('Old') },
        local: { values: { firstName: 'Anna', company: 'Old' }, modifiedAt: '2026-01-02T00:00:00Z' },
        crm: { values: { firstName: 'Ann', company: 'New' }, modifiedAt: '2026-01-02T00:00:00Z' },
        runId: 'run-1',
      }),
    );
    expect(plan.toCrm).toEqual({ firstName: 'Anna' });
    expect(plan.toLocal).toEqual({ company: 'New' });
    expect(plan.synced.firstName).toMatchObject({
      value: 'Anna',
      side: 'penguinmails',
      rule: 'only_changed_side',
      runId: 'run-1',
    });
    expect(plan.synced.company).toMatchObject({ value: 'New', side: 'crm', rule: 'only_changed_side' });
  });

  it('resolves a conflict by policy, per field, and records the rule', () => {
    const plan = planRecord(
      input({
        resolver: new ConflictResolver('penguinmails_wins'),
        base: { company: base('Base'), firstName: base('Ann') },
        local: { values: { company: 'Local', firstName: 'Ann' }, modifiedAt: '2026-01-02T00:00:00Z' },
        crm: { values: { company: 'Remote', firstName: 'Anne' }, modifiedAt: '2026-01-02T00:00:00Z' },
      }),
    );
    expect(plan.conflicts).toHaveLength(1);
    expect(plan.toCrm).toEqual({ company: 'Local' });
    expect(plan.toLocal).toEqual({ firstName: 'Anne' });
    expect(plan.synced.company).toMatchObject({
      value: 'Local',
      side: 'penguinmails',
      rule: 'penguinmails_wins',
    });
  });

  it('never pushes a field the mapping reads from the CRM only (a related record’s field)', () => {
    const readOnlyCompany: ObjectMapping = {
      object: 'people',
      emailField: 'mail',
      fields: [
        { local: 'email', crm: 'mail', direction: 'both', codec: 'email' },
        { local: 'company', crm: 'Employer.Label', direction: 'from_crm', codec: 'text' },
      ],
    };
    const plan = planRecord(
      input({
        mapping: readOnlyCompany,
        base: { company: base('Acme') },
        local: { values: { company: 'Changed locally' }, modifiedAt: '2026-01-02T00:00:00Z' },
      }),
    );
    expect(plan.toCrm).toEqual({});
  });

  it('one-way directions: to_crm never pulls, from_crm never pushes', () => {
    const both = {
      base: { company: base('Base') },
      local: { values: { company: 'Local' }, modifiedAt: '2026-01-02T00:00:00Z' },
      crm: { values: { company: 'Remote' }, modifiedAt: '2026-01-02T00:00:00Z' },
    };
    const toCrm = planRecord(input({ ...both, direction: 'to_crm' }));
    expect(toCrm).toMatchObject({ toCrm: { company: 'Local' }, toLocal: {}, conflicts: [] });
    const fromCrm = planRecord(input({ ...both, direction: 'from_crm' }));
    expect(fromCrm).toMatchObject({ toCrm: {}, toLocal: { company: 'Remote' }, conflicts: [] });
  });
});
