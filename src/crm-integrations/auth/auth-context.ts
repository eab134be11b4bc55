import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** Who is calling: a tenant's service token, or the platform token (tenantId null: every tenant). */
export interface AuthContext {
  actor: string;
  tokenId?: string;
  tenantId: string | null;
}

export interface AuthenticatedRequest {
  auth?: AuthContext;
  params: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
}

export const Auth = createParamDecorator((_data: unknown, context: ExecutionContext): AuthContext => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!request.auth) throw new Error('Auth() used on a route without ServiceAuthGuard');
  return request.auth;
});
