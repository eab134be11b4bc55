import { Injectable } from '@nestjs/common';
import { CrmConnection, RealtimeChannel, type SealedSecret } from '@pm/domain';
import { CrmRepository } from './base.repository';

export interface StoredChannel {
  sealed: SealedSecret;
  webhookIds: string[];
  registeredAt: Date | null;
}

/** Each connection's real-time channel: sealed callback credentials and the webhooks registered at the CRM. */
@Injectable()
export class RealtimeChannelRepository extends CrmRepository {
  async find(connectionId: string): Promise<StoredChannel | null> {
    const row = await this.fork().findOne(
      RealtimeChannel,
      { connection: connectionId },
      { populate: ['sealed'] },
    );
    if (!row) return null;
    return {
      sealed: { keyId: row.keyId, sealed: row.sealed },
      webhookIds: row.webhookIds,
      registeredAt: row.registeredAt ?? null,
    };
  }

  /** Creates the channel with its sealed credentials, or replaces them. */
  async saveCredentials(connectionId: string, sealed: SealedSecret): Promise<void> {
    const em = this.fork();
    const row =
      (await em.findOne(RealtimeChannel, { connection: connectionId })) ??
      em.create(RealtimeChannel, {
        connection: em.getReference(CrmConnection, connectionId),
        keyId: sealed.keyId,
        sealed: sealed.sealed,
      });
    row.keyId = sealed.keyId;
    row.sealed = sealed.sealed;
    await em.flush();
  }

  async saveWebhooks(connectionId: string, webhookIds: string[], at: Date | null): Promise<void> {
    await this.fork().nativeUpdate(
      RealtimeChannel,
      { connection: connectionId },
      { webhookIds, registeredAt: at },
    );
  }
}
