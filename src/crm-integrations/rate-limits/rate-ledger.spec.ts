import {
  assertGrantable,
  decide,
  largestGrant,
  observe,
  rateLimits,
  settle,
  type Ledger,
} from './rate-ledger';

const empty = (): Ledger => ({ grants: {}, dayStartedAt: null, dailyUsed: 0, pausedUntil: null });
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
});
