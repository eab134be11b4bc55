import { Injectable } from '@nestjs/common';
import { ServiceToken } from '@pm/domain';
import { CrmRepository } from './base.repository';

export interface NewServiceToken {
  name: string;
  tenantId: string | null;
  tokenHash: string;
  prefix: string;
  expiresAt: Date | null;
  createdBy: string | null;
}

@Injectable()
export class ServiceTokenRepository extends CrmRepository {
  /** The token with this hash, revoked and expired ones included (the service tells them apart). */
  findByHash(tokenHash: string): Promise<ServiceToken | null> {
    return this.em.findOne(ServiceToken, { tokenHash });
  }

  findById(id: string): Promise<ServiceToken | null> {
    return this.em.findOne(ServiceToken, { id });
  }

  /**
   * Sets the last-used time unless another request already set one after `notBefore`: one cheap conditional
   * update, at most once per interval per token however many requests arrive.
   */
  async touch(id: string, at: Date, notBefore: Date): Promise<void> {
    await this.em.nativeUpdate(
      ServiceToken,
      { id, $or: [{ lastUsedAt: null }, { lastUsedAt: { $lt: notBefore } }] },
      { lastUsedAt: at },
    );
  }

  async create(data: NewServiceToken): Promise<ServiceToken> {
    const token = this.em.create(ServiceToken, {
      name: data.name,
      tenant: data.tenantId,
      tokenHash: data.tokenHash,
      prefix: data.prefix,
      expiresAt: data.expiresAt,
      createdBy: data.createdBy,
    });
    await this.em.flush();
    return token;
  }

  /** Newest first; one tenant's only when `tenantId` is given (null: the platform-wide ones). */
  list(filter: { tenantId?: string | null; includeRevoked?: boolean } = {}): Promise<ServiceToken[]> {
    return this.em.find(
      ServiceToken,
      {
        ...(filter.tenantId !== undefined ? { tenant: filter.tenantId } : {}),
        ...(filter.includeRevoked ? {} : { revokedAt: null }),
      },
      { orderBy: { createdAt: 'desc', id: 'desc' } },
    );
  }
}
