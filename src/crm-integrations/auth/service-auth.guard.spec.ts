import { ForbiddenException, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { autoMock } from '@pm/integration-port/testing';
import type { AuthenticatedRequest } from './auth-context';
import { PlatformOnly } from './platform-only.decorator';
import { ServiceAuthGuard } from './service-auth.guard';
import type { ServiceTokenService } from './service-token.service';

class Routes {
  open(): void {}
  @PlatformOnly()
  platform(): void {}
}

function contextFor(handler: keyof Routes, params: Record<string, string>, token = 'pmcrm_t') {
  const request: AuthenticatedRequest = { params, headers: { authorization: `Bearer ${token}` } };
  const context = {
    switchToHttp: () => ({ getRequest: () => request }),
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
  } as unknown as ExecutionContext;
  return { context, request };
}

describe('ServiceAuthGuard', () => {
  let tokens: jest.Mocked<ServiceTokenService>;
  let guard: ServiceAuthGuard;
  const tenantToken = { auth: { actor: 'service:acme', tokenId: 't1', tenantId: 'acme' } };
  const platformToken = { auth: { actor: 'service:platform', tenantId: null } };

  beforeEach(() => {
    tokens = autoMock<ServiceTokenService>('tokens');
    guard = new ServiceAuthGuard(tokens, new Reflector());
  });

  it('lets a tenant token reach its own tenant and names the caller on the request', async () => {
    tokens.authenticate.mockResolvedValue(tenantToken);
    const { context, request } = contextFor('open', { tenantId: 'acme' });
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(request.auth).toEqual(tenantToken.auth);
  });

  it('refuses a tenant token on a platform-only route even for its own tenant', async () => {
    tokens.authenticate.mockResolvedValue(tenantToken);
    await expect(guard.canActivate(contextFor('platform', { tenantId: 'acme' }).context)).rejects.toThrow(
      new ForbiddenException('This route needs the platform token'),
    );
    tokens.authenticate.mockResolvedValue(platformToken);
    await expect(guard.canActivate(contextFor('platform', { tenantId: 'acme' }).context)).resolves.toBe(true);
  });

  it('answers an expired token with a 401 saying when, and a missing header without asking the service', async () => {
    const expiredAt = new Date('2026-12-06T10:00:00.000Z');
    tokens.authenticate.mockResolvedValue({ refused: 'expired', expiredAt });
    await expect(guard.canActivate(contextFor('open', { tenantId: 'acme' }).context)).rejects.toThrow(
      new UnauthorizedException('This service token expired at 2026-12-06T10:00:00.000Z'),
    );
    const { context, request } = contextFor('open', { tenantId: 'acme' });
    delete request.headers.authorization;
    await expect(guard.canActivate(context)).rejects.toThrow(UnauthorizedException);
    expect(tokens.authenticate).toHaveBeenCalledTimes(1);
  });
});
