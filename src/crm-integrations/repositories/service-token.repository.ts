import { Injectable } from '@nestjs/common';
import { ServiceToken } from '@pm/domain';
import { CrmRepository } from './base.repository';

@Injectable()
export class ServiceTokenRepository extends CrmRepository {
  findActiveByHash(tokenHash: string): Promise<ServiceToken | null> {
    return this.em.findOne(ServiceToken, { tokenHash, revokedAt: null });
  }

  async touch(token: ServiceToken): Promise<void> {
    await this.em.nativeUpdate(ServiceToken, { id: token.id }, { lastUsedAt: new Date() });
  }

  async create(data: {
    name: string;
    tenantId: string | null;
    tokenHash: string;
    prefix: string;
  }): Promise<ServiceToken> {
    const token = this.em.create(ServiceToken, {
      name: data.name,
      tenant: data.tenantId,
      tokenHash: data.tokenHash,
      prefix: data.prefix,
    });
    await this.em.flush();
    return token;
  }
}
