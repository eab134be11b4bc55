import type { ContractContext } from './contract-context';

/** What the connector declares about itself. */
export function capabilitiesCases(ctx: ContractContext): void {
  it('declares well-formed capabilities: objects, batch sizes, rate limits', () => {
    expect(ctx.capabilities.provider).toBe(ctx.fixture.port.provider);
    expect(ctx.capabilities.displayName).toEqual(expect.any(String));
    expect(ctx.capabilities.objects.length).toBeGreaterThan(0);
    const names = ctx.capabilities.objects.map((object) => object.name);
    expect(new Set(names).size).toBe(names.length);
    expect(ctx.contactCapability).toMatchObject({
      role: 'contact',
      emailField: ctx.fixture.contact.fields.email,
    });
    for (const object of ctx.capabilities.objects) {
      expect(object.label).toEqual(expect.any(String));
      expect(typeof object.reportsDeletions).toBe('boolean');
      expect(typeof object.upsertByEmail).toBe('boolean');
    }
    for (const size of [
      ctx.capabilities.maxWriteBatch,
      ctx.capabilities.maxReadPage,
      ctx.capabilities.maxConcurrency,
    ]) {
      expect(Number.isInteger(size) && size >= 1).toBe(true);
    }
    expect(ctx.capabilities.rateLimits.length).toBeGreaterThan(0);
    for (const limit of ctx.capabilities.rateLimits) {
      expect(Number.isInteger(limit.limit) && limit.limit > 0).toBe(true);
      if (limit.kind === 'window') expect(limit.windowMs).toBeGreaterThan(0);
    }
    if (ctx.capabilities.webhooks.supported) {
      expect(ctx.capabilities.webhooks.verification).not.toBe('none');
    }
    expect(Array.isArray(ctx.capabilities.oauth.defaultScopes)).toBe(true);
  });
}
