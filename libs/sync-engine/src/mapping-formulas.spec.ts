import {
  checkFormula,
  DEFAULT_FORMULA_LIMITS,
  evaluateFormula,
  FormulaError,
  formulaInputFields,
} from './mapping-formulas';

const contact = { email: 'ada@Example.COM', firstName: 'Ada', lastName: 'Lovelace', customFields: {} };

describe('mapping formulas (JSONata)', () => {
  it('computes a full name, a lower-cased domain and a default when empty', async () => {
    await expect(evaluateFormula('=Name', "firstName & ' ' & lastName", contact)).resolves.toBe(
      'Ada Lovelace',
    );
    await expect(
      evaluateFormula('=Domain', "$lowercase($substringAfter(email, '@'))", contact),
    ).resolves.toBe('example.com');
    await expect(
      evaluateFormula('=Title', "title ? title : 'Unknown'", { ...contact, title: null }),
    ).resolves.toBe('Unknown');
  });

  it('gives null for an empty result and text for a number', async () => {
    await expect(evaluateFormula('x', 'missing', contact)).resolves.toBeNull();
    await expect(evaluateFormula('x', '1 + 2', contact)).resolves.toBe('3');
  });

  it('a formula that throws fails with a message naming its field', async () => {
    const failure = evaluateFormula('=Score__c', '$error("no score")', contact);
    await expect(failure).rejects.toBeInstanceOf(FormulaError);
    await expect(failure).rejects.toThrow('Formula for =Score__c failed: no score');
  });

  it('unbounded recursion stops at the bound instead of hanging or overflowing the stack', async () => {
    await expect(evaluateFormula('=Loop', '($f := function(){ $f() }; $f())', contact)).rejects.toThrow(
      /Formula for =Loop failed: it (ran longer than|nested deeper than)/,
    );
  });

  it('a formula that runs too long is stopped at its deadline', async () => {
    const limits = { ...DEFAULT_FORMULA_LIMITS, timeoutMs: 20 };
    await expect(
      evaluateFormula('=Slow', '$sum([1..10000].($i := $; $sum([1..10000].($ * $i))))', contact, limits),
    ).rejects.toThrow('Formula for =Slow failed: it ran longer than 20 ms (stopped)');
  });

  it('a formula that passed its deadline without the CPU (a busy machine) is evaluated again, not failed', async () => {
    // Each evaluation step reads the wall clock; the third read of the first evaluation comes a second later, as
    // when the process is not scheduled for a second. The formula itself needs next to no CPU.
    const realNow = Date.now.bind(Date);
    let reads = 0;
    const now = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + (++reads >= 3 ? 1_000 : 0));
    try {
      await expect(evaluateFormula('=Name', "firstName & ' ' & lastName", contact)).resolves.toBe(
        'Ada Lovelace',
      );
    } finally {
      now.mockRestore();
    }
    expect(reads).toBeGreaterThan(3);
  });

  it('a huge sequence or a huge result is refused', async () => {
    await expect(evaluateFormula('=Big', '$count([1..10000000])', contact)).rejects.toThrow(
      'it built a sequence longer than 100000 items',
    );
    await expect(evaluateFormula('=Long', "$pad('', 20000, 'x')", contact)).rejects.toThrow(
      'its result is longer than 10000 characters',
    );
  });

  it('reads the top-level input fields, not names inside predicates or later path steps', () => {
    expect(formulaInputFields("firstName & ' ' & customFields.colour")).toEqual([
      'firstName',
      'customFields',
    ]);
    expect(formulaInputFields('emails[primary=true].value')).toEqual(['emails']);
  });

  it('checks syntax and referenced fields when a mapping is saved', () => {
    const known = (field: string) => ['firstName', 'lastName'].includes(field);
    expect(checkFormula('firstName &', known).syntaxError).toMatch(
      /Unexpected end of expression at position/,
    );
    expect(checkFormula("firstName & ' ' & surname", known)).toMatchObject({ unknownFields: ['surname'] });
    expect(checkFormula("firstName & ' ' & lastName", known)).toMatchObject({ unknownFields: [] });
    expect(checkFormula('x'.repeat(2_001), known).syntaxError).toBe('longer than 2000 characters');
  });
});

describe('mapping preview', () => {
  it('shows each field’s value both ways, a failing formula on its own field, within one time budget', async () => {
    const { previewMapping, PREVIEW_BUDGET_MS } = await import('./mapping-preview');
    let clock = 0;
    const previews = await previewMapping(
      {
        object: 'contacts',
        emailField: 'email',
        fields: [
          { local: 'email', crm: 'email', direction: 'both', codec: 'email' },
          {
            local: 'lifecycleStage',
            crm: 'stage',
            direction: 'both',
            codec: 'text',
            valueMap: { toCrm: { prospect: 'Open' }, fromCrm: { Won: 'customer' } },
          },
          { crm: 'summary', direction: 'to_crm', codec: 'text', formula: { toCrm: '$error("bad")' } },
          { crm: 'later', direction: 'to_crm', codec: 'text', formula: { toCrm: 'firstName' } },
        ],
      },
      {
        local: { ...contact, email: 'ada@example.com', lifecycleStage: 'prospect' } as never,
        crm: { email: 'ADA@example.com', stage: 'Won' },
      },
      DEFAULT_FORMULA_LIMITS,
      // Each reading of the clock moves it past the budget, so the last formula is not evaluated.
      () => (clock += PREVIEW_BUDGET_MS),
    );
    expect(previews).toEqual([
      {
        key: 'email',
        local: 'email',
        crm: 'email',
        direction: 'both',
        toCrm: { value: 'ada@example.com' },
        fromCrm: { value: 'ada@example.com' },
      },
      {
        key: 'lifecycleStage',
        local: 'lifecycleStage',
        crm: 'stage',
        direction: 'both',
        toCrm: { value: 'Open' },
        fromCrm: { value: 'customer' },
      },
      {
        key: '=summary',
        local: null,
        crm: 'summary',
        direction: 'to_crm',
        toCrm: { error: 'Formula for =summary failed: bad' },
      },
      {
        key: '=later',
        local: null,
        crm: 'later',
        direction: 'to_crm',
        toCrm: { error: "not evaluated: the preview's 1000 ms for formulas was used up" },
      },
    ]);
  });
});
