import { Injectable, Logger } from '@nestjs/common';
import type { ContactPushNotifier } from '../contacts/contact-push-notifier';
import { ConnectionRepository } from '../repositories';
import { ContactPushQueue } from './contact-push.queue';
import { isRealtime } from './contact-push.tokens';

/**
 * Hears the contacts the API changed and queues their push to each of the tenant's real-time connections that
 * writes to its CRM. Changes a sync made never come here (they came from a CRM), so a push never answers a sync.
 */
@Injectable()
export class ContactPushService implements ContactPushNotifier {
  private readonly logger = new Logger('ContactPushService');

  constructor(
    private readonly connections: ConnectionRepository,
    private readonly queue: ContactPushQueue,
  ) {}

  async contactsChanged(tenantId: string, contactIds: string[]): Promise<void> {
    if (contactIds.length === 0) return;
    try {
      const targets = (await this.connections.listForTenant(tenantId)).filter(
        (connection) =>
          connection.status === 'connected' &&
          isRealtime(connection.settings) &&
          connection.settings.direction !== 'from_crm',
      );
      await this.queue.enqueue(
        targets.flatMap((connection) =>
          [...new Set(contactIds)].map((contactId) => ({ connectionId: connection.id, tenantId, contactId })),
        ),
      );
    } catch (error) {
      // The change is saved; the scheduled sync carries it if the push could not be queued.
      this.logger.warn(
        `Immediate push not queued for tenant ${tenantId}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
