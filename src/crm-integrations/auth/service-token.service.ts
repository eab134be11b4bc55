import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { ServiceToken } from '@pm/domain';
import { AuditService } from '../audit/audit.service';
import { CRM_INTEGRATIONS_OPTIONS, type CrmIntegrationsOptions } from '../crm-integrations.options';
import { API_CLOCK, type ApiClock } from '../http/api-clock';
import { ValidationProblem } from '../http/problem-details.filter';
import { ServiceTokenRepository, TenantRepository } from '../repositories';
import type { AuthContext } from './auth-context';

const TOKEN_PREFIX = 'pmcrm_';

/** The last-used time is written at most this often per token, so a busy client does not write on every call. */
export const LAST_USED_INTERVAL_MS = 60_000;

export function hashServiceToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new token: the plaintext (shown once), its hash (stored) and a prefix (to tell tokens apart in lists). */
export function generateServiceToken(): { token: string; tokenHash: string; prefix: string } {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return { token, tokenHash: hashServiceToken(token), prefix: token.slice(0, TOKEN_PREFIX.length + 6) };
}

export type ServiceTokenStatus = 'active' | 'expired' | 'revoked';

/** A stored token as lists show it: never its hash or plaintext. */
export interface ServiceTokenView {
  id: string;
  name: string;
  prefix: string;
  tenantId: string | null;
  status: ServiceTokenStatus;
  createdAt: string;
  createdBy: string | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface IssueServiceToken {
  name: string;
  /** Null or left out: a platform-wide token. */
  tenantId?: string | null;
  /** A Date or an ISO 8601 string; null or left out: no expiry. */
  expiresAt?: Date | string | null;
}

/** A new token as issued: what lists show, plus the plaintext (this once). */
export type IssuedServiceToken = ServiceTokenView & { token: string };

/** Why a presented token was refused (the guard answers 401 with it). */
export type TokenRefusal = 'unknown' | 'expired';

export type Authentication = { auth: AuthContext } | { refused: TokenRefusal; expiredAt?: Date };

/**
 * Service tokens: issued by an admin (CLI, AdminJS, or the platform token over the API), stored as a SHA-256,
 * optionally limited to one tenant, with an expiry and a last-used time, revocable. Every change is audited.
 */
@Injectable()
export class ServiceTokenService {
  private readonly platformTokenHash?: Buffer;
  constructor(
    private readonly tokens: ServiceTokenRepository,
    private readonly tenants: TenantRepository,
    private readonly audit: AuditService,
    @Inject(CRM_INTEGRATIONS_OPTIONS) options: Pick<CrmIntegrationsOptions, 'platformServiceToken'>,
    @Inject(API_CLOCK) private readonly clock: ApiClock,
  ) {
    if (options.platformServiceToken) {
      this.platformTokenHash = Buffer.from(hashServiceToken(options.platformServiceToken), 'hex');
    }
  }

  /**
   * Issues a token with the system as its issuer (tests, hosts): the plaintext is returned once and only its hash
   * is stored. `create` is the same with the issuing admin named.
   */
  async issue(
    name: string,
    tenantId: string | null,
    options: { expiresAt?: Date | null; actor?: string } = {},
  ): Promise<{ token: string; id: string }> {
    const { token, id } = await this.create(
      { actor: options.actor ?? 'system' },
      { name, tenantId, expiresAt: options.expiresAt },
    );
    return { token, id };
  }

  /**
   * Issues a token for `actor` (an admin, `cli`, the platform token); audited, the plaintext returned once. Like
   * every method here, callable inside a request or outside one (AdminJS, CLI).
   */
  create(actor: Pick<AuthContext, 'actor'>, request: IssueServiceToken): Promise<IssuedServiceToken> {
    return this.tokens.inContext(() => this.createInContext(actor, request));
  }

  private async createInContext(
    actor: Pick<AuthContext, 'actor'>,
    request: IssueServiceToken,
  ): Promise<IssuedServiceToken> {
    const name = request.name.trim();
    const tenantId = request.tenantId ?? null;
    const expiresAt = request.expiresAt ? new Date(request.expiresAt) : null;
    if (!name) throw new ValidationProblem([{ name: 'name', reason: 'must not be empty' }]);
    if (expiresAt && Number.isNaN(expiresAt.getTime())) {
      throw new ValidationProblem([{ name: 'expiresAt', reason: 'must be an ISO 8601 date-time' }]);
    }
    if (expiresAt && expiresAt.getTime() <= this.clock.now().getTime()) {
      throw new ValidationProblem([{ name: 'expiresAt', reason: 'must be in the future' }]);
    }
    if (tenantId !== null && !(await this.tenants.find(tenantId))) {
      throw new ValidationProblem([{ name: 'tenantId', reason: `tenant "${tenantId}" does not exist` }]);
    }
    const { token, tokenHash, prefix } = generateServiceToken();
    const stored = await this.tokens.create({
      name,
      tenantId,
      tokenHash,
      prefix,
      expiresAt,
      createdBy: actor.actor,
    });
    const view = this.view(stored);
    await this.audit.record(actor, {
      tenantId,
      action: 'service_token.created',
      targetType: 'service_token',
      targetId: stored.id,
      before: null,
      after: { name: view.name, prefix: view.prefix, tenantId: view.tenantId, expiresAt: view.expiresAt },
    });
    return { ...view, token };
  }

  /** Tokens newest first, without revoked ones unless asked; one tenant's when `tenantId` is given. */
  list(filter: { tenantId?: string | null; includeRevoked?: boolean } = {}): Promise<ServiceTokenView[]> {
    return this.tokens.inContext(async () =>
      (await this.tokens.list(filter)).map((token) => this.view(token)),
    );
  }

  get(id: string): Promise<ServiceTokenView> {
    return this.tokens.inContext(async () => this.view(await this.require(id)));
  }

  /** Revokes a token at once (the next request with it is a 401). Revoking a revoked token changes nothing. */
  revoke(actor: Pick<AuthContext, 'actor'>, id: string): Promise<ServiceTokenView> {
    return this.tokens.inContext(() => this.revokeInContext(actor, id));
  }

  private async revokeInContext(actor: Pick<AuthContext, 'actor'>, id: string): Promise<ServiceTokenView> {
    const token = await this.require(id);
    if (!token.revokedAt) {
      token.revokedAt = this.clock.now();
      await this.tokens.flush();
      await this.audit.record(actor, {
        tenantId: token.tenant?.id ?? null,
        action: 'service_token.revoked',
        targetType: 'service_token',
        targetId: token.id,
        before: { revokedAt: null },
        after: { revokedAt: token.revokedAt.toISOString() },
      });
    }
    return this.view(token);
  }

  async authenticate(token: string): Promise<Authentication> {
    const hash = hashServiceToken(token);
    if (this.platformTokenHash && timingSafeEqual(Buffer.from(hash, 'hex'), this.platformTokenHash)) {
      return { auth: { actor: 'service:platform', tenantId: null } };
    }
    if (!token.startsWith(TOKEN_PREFIX)) return { refused: 'unknown' };
    const stored = await this.tokens.findByHash(hash);
    if (!stored || stored.revokedAt) return { refused: 'unknown' };
    const now = this.clock.now();
    if (stored.expiresAt && stored.expiresAt.getTime() <= now.getTime()) {
      return { refused: 'expired', expiredAt: stored.expiresAt };
    }
    const notBefore = new Date(now.getTime() - LAST_USED_INTERVAL_MS);
    if (!stored.lastUsedAt || stored.lastUsedAt < notBefore) {
      await this.tokens.touch(stored.id, now, notBefore);
    }
    return {
      auth: { actor: `service:${stored.name}`, tokenId: stored.id, tenantId: stored.tenant?.id ?? null },
    };
  }

  private async require(id: string): Promise<ServiceToken> {
    const token = await this.tokens.findById(id);
    if (!token) throw new NotFoundException(`Service token "${id}" does not exist`);
    return token;
  }

  private view(token: ServiceToken): ServiceTokenView {
    const iso = (date?: Date | null) => (date ? date.toISOString() : null);
    const expired = !!token.expiresAt && token.expiresAt.getTime() <= this.clock.now().getTime();
    return {
      id: token.id,
      name: token.name,
      prefix: token.prefix,
      tenantId: token.tenant?.id ?? null,
      status: token.revokedAt ? 'revoked' : expired ? 'expired' : 'active',
      createdAt: token.createdAt.toISOString(),
      createdBy: token.createdBy ?? null,
      expiresAt: iso(token.expiresAt),
      lastUsedAt: iso(token.lastUsedAt),
      revokedAt: iso(token.revokedAt),
    };
  }
}
