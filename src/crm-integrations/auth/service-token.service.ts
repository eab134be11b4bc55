import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CRM_INTEGRATIONS_OPTIONS, type CrmIntegrationsOptions } from '../crm-integrations.options';
import { ServiceTokenRepository } from '../repositories';
import type { AuthContext } from './auth-context';

const TOKEN_PREFIX = 'pmcrm_';

export function hashServiceToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new token: the plaintext (shown once), its hash (stored) and a prefix (to tell tokens apart in lists). */
export function generateServiceToken(): { token: string; tokenHash: string; prefix: string } {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return { token, tokenHash: hashServiceToken(token), prefix: token.slice(0, TOKEN_PREFIX.length + 6) };
}

@Injectable()
export class ServiceTokenService {
  private readonly platformTokenHash?: Buffer;

  constructor(
    private readonly tokens: ServiceTokenRepository,
    @Inject(CRM_INTEGRATIONS_OPTIONS) options: CrmIntegrationsOptions,
  ) {
    if (options.platformServiceToken) {
      this.platformTokenHash = Buffer.from(hashServiceToken(options.platformServiceToken), 'hex');
    }
  }

  /** Issues a token; the plaintext is returned once and only its hash is stored. */
  async issue(name: string, tenantId: string | null): Promise<{ token: string; id: string }> {
    const { token, tokenHash, prefix } = generateServiceToken();
    const stored = await this.tokens.create({ name, tenantId, tokenHash, prefix });
    return { token, id: stored.id };
  }

  async authenticate(token: string): Promise<AuthContext | null> {
    const hash = hashServiceToken(token);
    if (this.platformTokenHash && timingSafeEqual(Buffer.from(hash, 'hex'), this.platformTokenHash)) {
      return { actor: 'service:platform', tenantId: null };
    }
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const stored = await this.tokens.findActiveByHash(hash);
    if (!stored) return null;
    await this.tokens.touch(stored);
    return { actor: `service:${stored.name}`, tokenId: stored.id, tenantId: stored.tenant?.id ?? null };
  }
}
