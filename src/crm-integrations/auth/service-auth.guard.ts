import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthenticatedRequest } from './auth-context';
import { PLATFORM_ONLY } from './platform-only.decorator';
import { ServiceTokenService } from './service-token.service';

/**
 * Bearer service tokens for the PenguinMails backend. Every API route carries its tenant in the path; a tenant
 * token reaches only its own tenant, the platform token reaches all. Routes marked `@PlatformOnly()` and routes
 * without a tenant in their path take the platform token only.
 */
@Injectable()
export class ServiceAuthGuard implements CanActivate {
  constructor(
    private readonly tokens: ServiceTokenService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers['authorization'];
    const value = Array.isArray(header) ? header[0] : header;
    const match = value?.match(/^Bearer\s+(\S+)$/i);
    if (!match) throw new UnauthorizedException('Missing bearer token in the Authorization header');
    const result = await this.tokens.authenticate(match[1]);
    if ('refused' in result) {
      throw new UnauthorizedException(
        result.refused === 'expired'
          ? `This service token expired at ${result.expiredAt?.toISOString()}`
          : 'Unknown or revoked service token',
      );
    }
    const { auth } = result;
    const tenantId = request.params?.tenantId;
    if (tenantId !== undefined && auth.tenantId !== null && auth.tenantId !== tenantId) {
      // Same answer whether the other tenant exists or not: a token never learns about other tenants.
      throw new ForbiddenException('This token is not valid for this tenant');
    }
    const platformOnly = this.reflector.getAllAndOverride<boolean>(PLATFORM_ONLY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if ((tenantId === undefined || platformOnly) && auth.tenantId !== null) {
      throw new ForbiddenException('This route needs the platform token');
    }
    request.auth = auth;
    return true;
  }
}
