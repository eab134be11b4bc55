import { autoMock } from '@pm/integration-port/testing';
import { ServiceToken } from '@pm/domain';
import type { AuditService } from '../audit/audit.service';
import type { ServiceTokenRepository, TenantRepository } from '../repositories';
import { aTenant } from '../testing/entities';
import { generateServiceToken, LAST_USED_INTERVAL_MS, ServiceTokenService } from './service-token.service';

const NOW = new Date('2026-12-06T09:00:00.000Z');

function aToken(overrides: Partial<ServiceToken> = {}): ServiceToken {
  return Object.assign(
    new ServiceToken(),
    { name: 'backend', prefix: 'pmcrm_abcdef', tokenHash: 'h', tenant: aTenant() },
    overrides,
  );
}

describe('ServiceTokenService', () => {
  let tokens: jest.Mocked<ServiceTokenRepository>;
  let tenants: jest.Mocked<TenantRepository>;
  let audit: jest.Mocked<AuditService>;
  let service: ServiceTokenService;

  beforeEach(() => {
    tokens = autoMock<ServiceTokenRepository>('tokens');
    // The ORM context is the repository's business; here the work simply runs.
    tokens.inContext.mockImplementation((work) => work());
    tenants = autoMock<TenantRepository>('tenants');
    audit = autoMock<AuditService>('audit');
    service = new ServiceTokenService(
      tokens,
      tenants,
      audit,
      { platformServiceToken: 'platform' },
      { now: () => NOW },
    );
  });

  it('knows the platform token without reading the database', async () => {
    expect(await service.authenticate('platform')).toEqual({
      auth: { actor: 'service:platform', tenantId: null },
    });
  });

  it('refuses a token without the prefix without a query, and an unknown or revoked one alike', async () => {
    expect(await service.authenticate('nope')).toEqual({ refused: 'unknown' });
    tokens.findByHash.mockResolvedValueOnce(null).mockResolvedValueOnce(aToken({ revokedAt: NOW }));
    expect(await service.authenticate('pmcrm_x')).toEqual({ refused: 'unknown' });
    expect(await service.authenticate('pmcrm_x')).toEqual({ refused: 'unknown' });
  });

  it('refuses a token at its expiry, saying when', async () => {
    tokens.findByHash.mockResolvedValue(aToken({ expiresAt: NOW }));
    expect(await service.authenticate('pmcrm_x')).toEqual({ refused: 'expired', expiredAt: NOW });
  });

  it('writes the last-used time only when the stored one is older than the interval', async () => {
    const recent = new Date(NOW.getTime() - LAST_USED_INTERVAL_MS + 1);
    tokens.findByHash.mockResolvedValueOnce(aToken({ lastUsedAt: recent }));
    const result = await service.authenticate('pmcrm_x');
    expect(result).toEqual({
      auth: { actor: 'service:backend', tokenId: expect.any(String), tenantId: 'acme' },
    });
    expect(tokens.touch).not.toHaveBeenCalled();

    tokens.findByHash.mockResolvedValueOnce(
      aToken({ lastUsedAt: new Date(NOW.getTime() - LAST_USED_INTERVAL_MS - 1) }),
    );
    tokens.touch.mockResolvedValue();
    await service.authenticate('pmcrm_x');
    expect(tokens.touch).toHaveBeenCalledWith(
      expect.any(String),
      NOW,
      new Date(NOW.getTime() - LAST_USED_INTERVAL_MS),
    );
  });

  it('stores only the hash, names the issuer, audits, and returns the plaintext once', async () => {
    tenants.find.mockResolvedValue(aTenant());
    tokens.create.mockImplementation(async (data) =>
      aToken({ ...data, tenant: aTenant(), createdAt: NOW, expiresAt: data.expiresAt }),
    );
    audit.record.mockResolvedValue();
    const issued = await service.create(
      { actor: 'admin@x' },
      { name: ' ops ', tenantId: 'acme', expiresAt: '2027-01-01T00:00:00Z' },
    );
    const stored = tokens.create.mock.calls[0][0];
    expect(stored).toMatchObject({ name: 'ops', tenantId: 'acme', createdBy: 'admin@x' });
    expect(stored.tokenHash).not.toContain(issued.token);
    expect(issued).toMatchObject({ status: 'active', expiresAt: '2027-01-01T00:00:00.000Z' });
    expect(audit.record).toHaveBeenCalledWith(
      { actor: 'admin@x' },
      expect.objectContaining({ action: 'service_token.created', tenantId: 'acme' }),
    );
    expect(JSON.stringify(audit.record.mock.calls)).not.toContain(issued.token);
  });

  it('refuses a past expiry and an unknown tenant, naming the field, storing nothing', async () => {
    await expect(service.create({ actor: 'a' }, { name: 'x', expiresAt: NOW })).rejects.toMatchObject({
      invalidParams: [{ name: 'expiresAt', reason: 'must be in the future' }],
    });
    tenants.find.mockResolvedValue(null);
    await expect(service.create({ actor: 'a' }, { name: 'x', tenantId: 'ghost' })).rejects.toMatchObject({
      invalidParams: [{ name: 'tenantId', reason: 'tenant "ghost" does not exist' }],
    });
    expect(tokens.create).not.toHaveBeenCalled();
  });

  it('revokes once: a second revoke neither changes the time nor audits again', async () => {
    const token = aToken();
    tokens.findById.mockResolvedValue(token);
    tokens.flush.mockResolvedValue();
    audit.record.mockResolvedValue();
    expect((await service.revoke({ actor: 'a' }, token.id)).status).toBe('revoked');
    expect((await service.revoke({ actor: 'a' }, token.id)).revokedAt).toBe(NOW.toISOString());
    expect(audit.record).toHaveBeenCalledTimes(1);
  });

  it('makes tokens the prefix tells apart', () => {
    const { token, prefix } = generateServiceToken();
    expect(token.startsWith(prefix)).toBe(true);
  });
});
