import {
  assertGrantable,
  decide,
  largestGrant,
  observe,
  rateLimits,
  settle,
  type Ledger,
} from './rate-ledger';

const empty = (): Ledger => ({
  grants: {},
  dayStartedAt: null,
  dailyUsed: 0,
  dailyLimit: null,
  pausedUntil: null,
});
const T0 = Date.parse('2026-12-05T12:00:00Z');

describe('rate ledger', () => {
  const pipedrive = rateLimits([
    { kind: 'window', limit: 80, windowMs: 2_000 },
    { kind: 'daily', limit: 30_000 },
  ]);
  const hubspot = rateLimits([
    { kind: 'window', limit: 110, windowMs: 10_000 },
    { kind: 'window', limit: 5, windowMs: 1_000, governs: ['readChanges'] },
  ]);

  it('refuses at once, naming the limit, a cost no window can ever grant (instead of waiting forever)', () => {
    expect(() => assertGrantable(pipedrive, 100, 'interactive', 'findByEmail')).toThrow(
      /100 calls of findByEmail exceed what the 80-per-2000-ms limit grants at once at interactive priority \(80\)/,
    );
    expect(() => assertGrantable(pipedrive, 61, 'background')).toThrow(/\(60\)/);
    expect(largestGrant(pipedrive, 'background', 'findByEmail')).toBe(60);
  });

  it('waits a finite time for the oldest grants to leave the window', () => {
    const first = decide(pipedrive, empty(), { cost: 60, priority: 'background' }, T0);
    expect(first.granted).toBe(true);
    const second = decide(
      pipedrive,
      first.granted ? first.ledger : empty(),
      { cost: 10, priority: 'background' },
      T0 + 500,
    );
    expect(second).toEqual({ granted: false, waitMs: 1_501, dailyExhausted: false });
  });

  it('charges a call only to the limits that govern it: a batch write never spends the search limit', () => {
    const write = decide(
      hubspot,
      empty(),
      { cost: 20, priority: 'background', operation: 'upsertBatch' },
      T0,
    );
    expect(write.granted).toBe(true);
    const ledger = write.granted ? write.ledger : empty();
    expect(ledger.grants['5/1000:readChanges']).toEqual([]);
    expect(ledger.grants['110/10000']).toHaveLength(20);
    expect(largestGrant(hubspot, 'background', 'upsertBatch')).toBe(82);
    expect(largestGrant(hubspot, 'background', 'readChanges')).toBe(3);
  });

  it("writes a header count only into the window it describes (HubSpot's 10-s count never fills the 1-s search window)", () => {
    const next = observe(hubspot, empty(), { windowLimit: 110, windowRemaining: 100, windowMs: 10_000 }, T0);
    expect(next?.grants['110/10000']).toHaveLength(10);
    expect(next?.grants['5/1000:readChanges']).toEqual([]);
    // Headers that say no more than the ledger knows change nothing.
    expect(
      observe(hubspot, next!, { windowLimit: 110, windowRemaining: 101, windowMs: 10_000 }, T0),
    ).toBeNull();
  });

  it('keeps grants of a call in flight in the window until the call settles', () => {
    const inFlight = T0 + 60_000.25;
    const granted = decide(pipedrive, empty(), { cost: 80, priority: 'interactive', stampAt: inFlight }, T0);
    const ledger = granted.granted ? granted.ledger : empty();
    // Long after the window, the unsettled call still holds it.
    expect(decide(pipedrive, ledger, { cost: 1, priority: 'interactive' }, T0 + 5_000).granted).toBe(false);
    const settled = settle(pipedrive, ledger, inFlight, T0 + 5_000);
    expect(decide(pipedrive, settled, { cost: 1, priority: 'interactive' }, T0 + 6_999).granted).toBe(false);
    expect(decide(pipedrive, settled, { cost: 1, priority: 'interactive' }, T0 + 7_000).granted).toBe(true);
  });

  describe("a daily allocation spent at its even spread (Salesforce's only limit)", () => {
    const salesforce = rateLimits([{ kind: 'daily', limit: 15_000, spread: { burst: 100 } }]);
    /** Grants `cost` calls at `at`, failing the test if they are refused. */
    const grant = (ledger: Ledger, cost: number, at: number): Ledger => {
      const decision = decide(salesforce, ledger, { cost, priority: 'interactive' }, at);
      if (!decision.granted) throw new Error(`refused at ${at - T0} ms: wait ${decision.waitMs} ms`);
      return decision.ledger;
    };

    it('lets a burst go at once, then paces to the allocation spread over the day', () => {
      // 15,000 a day spread evenly is one call every 5.76 s: a burst of 100 frees 576 s after it was made; 5 of every
      // 100 are kept for requests no call is charged (a describe before an object's first write).
      const burst = grant(empty(), 95, T0);
      expect(decide(salesforce, burst, { cost: 1, priority: 'interactive' }, T0 + 1_000)).toEqual({
        granted: false,
        waitMs: 576_000 - 1_000 + 1,
        dailyExhausted: false,
      });
      expect(decide(salesforce, burst, { cost: 1, priority: 'interactive' }, T0 + 576_001).granted).toBe(
        true,
      );
      // Background work spends at most three quarters of the spread, the rest left to the org's other integrations.
      expect(largestGrant(salesforce, 'background')).toBe(71);
      expect(largestGrant(salesforce, 'interactive')).toBe(95);
    });

    it("paces to the org's own allocation once Sforce-Limit-Info reports it", () => {
      // An org of 432,000 a day (5 calls a second spread evenly): 95 charged calls per 20 s (and 5 spare).
      const reported = observe(salesforce, empty(), { dailyLimit: 432_000, dailyRemaining: 432_000 }, T0);
      expect(reported?.dailyLimit).toBe(432_000);
      const burst = grant(reported!, 95, T0);
      expect(decide(salesforce, burst, { cost: 1, priority: 'interactive' }, T0 + 5_000)).toMatchObject({
        granted: false,
        waitMs: 15_001,
      });
      const next = grant(burst, 95, T0 + 20_001);
      // Over a long run: never more than 100 in any 20 s (95 charged), so at most 5 a second.
      expect(decide(salesforce, next, { cost: 1, priority: 'interactive' }, T0 + 39_000).granted).toBe(false);
      // The same headers again change nothing (no database write).
      expect(
        observe(salesforce, next, { dailyLimit: 432_000, dailyRemaining: 431_810 }, T0 + 20_001),
      ).toBeNull();
    });

    it("counts the org's use against its reported allocation, not the declared default", () => {
      // 20,000 used today by the org's other integrations: over the declared 15,000, well within its own 150,000.
      const ledger = observe(salesforce, empty(), { dailyLimit: 150_000, dailyRemaining: 130_000 }, T0)!;
      expect(ledger.dailyUsed).toBe(20_000);
      expect(decide(salesforce, ledger, { cost: 1, priority: 'interactive' }, T0).granted).toBe(true);
      const nearlyUsedUp = observe(salesforce, ledger, { dailyLimit: 150_000, dailyRemaining: 0 }, T0)!;
      expect(decide(salesforce, nearlyUsedUp, { cost: 1, priority: 'interactive' }, T0)).toMatchObject({
        granted: false,
        dailyExhausted: true,
      });
    });

    it('keeps the grants of calls in flight in the spread until they settle', () => {
      const inFlight = T0 + 60_000.5;
      const reported = observe(salesforce, empty(), { dailyLimit: 432_000, dailyRemaining: 432_000 }, T0)!;
      const decision = decide(
        salesforce,
        reported,
        { cost: 95, priority: 'interactive', stampAt: inFlight },
        T0,
      );
      const ledger = decision.granted ? decision.ledger : empty();
      expect(decide(salesforce, ledger, { cost: 1, priority: 'interactive' }, T0 + 30_000).granted).toBe(
        false,
      );
      const settled = settle(salesforce, ledger, inFlight, T0 + 30_000);
      expect(decide(salesforce, settled, { cost: 1, priority: 'interactive' }, T0 + 49_999).granted).toBe(
        false,
      );
      expect(decide(salesforce, settled, { cost: 1, priority: 'interactive' }, T0 + 50_001).granted).toBe(
        true,
      );
    });

    it('refuses a burst that is not a positive whole number of calls', () => {
      expect(() => rateLimits([{ kind: 'daily', limit: 15_000, spread: { burst: 0 } }])).toThrow(RangeError);
    });
  });
});
