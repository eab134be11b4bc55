import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import type { AuthenticatedRequest } from './auth-context';
import { ServiceTokenService } from './service-token.service';

/**
 * Bearer service tokens for the PenguinMails backend. Every API route carries its tenant in the path; a tenant
 * token reaches only its own tenant, the platform token reaches all.
 */
@Injectable()
export class ServiceAuthGuard implements CanActivate {
  constructor(private readonly tokens: ServiceTokenService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers['authorization'];
    const value = Array.isArray(header) ? header[0] : header;
    const match = value?.match(/^Bearer\s+(\S+)$/i);
    if (!match) throw new UnauthorizedException('Missing bearer token in the Authorization header');
    const auth = await this.tokens.authenticate(match[1]);
    if (!auth) throw new UnauthorizedException('Unknown or revoked service token');
    const tenantId = request.params?.tenantId;
    if (tenantId !== undefined && auth.tenantId !== null && auth.tenantId !== tenantId) {
      // Same answer whether the other tenant exists or not: a token never learns about other tenants.
      throw new ForbiddenException('This token is not valid for this tenant');
    }
    if (tenantId === undefined && auth.tenantId !== null) {
      throw new ForbiddenException('This route needs the platform token');
    }
    request.auth = auth;
    return true;
  }
}
