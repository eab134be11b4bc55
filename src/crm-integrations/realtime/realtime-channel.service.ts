import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { SecretBox, type CrmConnection } from '@pm/domain';
import { INTEGRATION_PORTS, type IntegrationPortMap, type WebhookSecrets } from '@pm/integration-port';
import { CRM_INTEGRATIONS_OPTIONS, type CrmIntegrationsOptions } from '../crm-integrations.options';
import { RealtimeChannelRepository } from '../repositories';
import { TokenVault } from '../vault/token-vault';

/** The objects whose changes a connection's webhooks report (the contact objects and their companies). */
const WEBHOOK_OBJECTS = ['persons', 'organizations'];

export interface ChannelCredentials {
  username: string;
  password: string;
}

/** What registering or removing a connection's webhooks came to. */
export interface ChannelChange {
  webhooks: number;
  error?: string;
}

/**
 * A connection's real-time channel at its CRM. Where the CRM registers webhooks per connection (Pipedrive), it
 * generates HTTP Basic credentials for the connection, keeps them sealed (`SecretBox`, the connection id as
 * associated data), and registers the webhooks through the connector when real-time is turned on (or the
 * connection connects with it on), removing them when it is turned off or the connection disconnects. A CRM whose
 * subscriptions belong to the app (HubSpot) needs nothing here.
 */
@Injectable()
export class RealtimeChannelService {
  private readonly logger = new Logger('RealtimeChannelService');

  constructor(
    private readonly channels: RealtimeChannelRepository,
    private readonly box: SecretBox,
    private readonly vault: TokenVault,
    @Inject(CRM_INTEGRATIONS_OPTIONS) private readonly options: CrmIntegrationsOptions,
    @Optional() @Inject(INTEGRATION_PORTS) private readonly ports?: IntegrationPortMap,
  ) {}

  /** The URL the CRM calls for this connection's changes. */
  callbackUrl(connectionId: string, provider: string): string {
    return `${this.options.publicUrl.replace(/\/+$/, '')}/webhooks/${provider}/${connectionId}`;
  }

  /** The credentials a request for this connection must carry; null when it has none (or does not exist). */
  async secretsFor(connectionId: string): Promise<WebhookSecrets | null> {
    const channel = await this.channels.find(connectionId);
    if (!channel) return null;
    const credentials = JSON.parse(this.box.open(channel.sealed, connectionId)) as ChannelCredentials;
    return { username: credentials.username, secret: credentials.password };
  }

  /** Registers the webhooks when the connection is real-time; never throws (the CRM may be down). */
  async connected(connection: CrmConnection): Promise<ChannelChange | null> {
    if (!connection.settings.realtime || !this.perConnection(connection.provider)) return null;
    return this.register(connection);
  }

  /** Before the token goes: the webhooks the connection registered are removed. */
  async disconnecting(connection: CrmConnection): Promise<ChannelChange | null> {
    if (!this.perConnection(connection.provider)) return null;
    return this.remove(connection);
  }

  /** Real-time turned on registers the webhooks, turned off removes them. */
  async settingsChanged(connection: CrmConnection, realtimeBefore: boolean): Promise<ChannelChange | null> {
    const now = connection.settings.realtime === true;
    if (now === realtimeBefore || !this.perConnection(connection.provider)) return null;
    if (connection.status !== 'connected') return null;
    return now ? this.register(connection) : this.remove(connection);
  }

  private perConnection(provider: string): boolean {
    return this.ports?.[provider]?.capabilities().webhooks.registration === 'connection';
  }

  private async register(connection: CrmConnection): Promise<ChannelChange> {
    const port = this.ports?.[connection.provider];
    if (!port) return { webhooks: 0, error: `No connector for ${connection.provider}` };
    try {
      await this.remove(connection, { quiet: false });
      const credentials: ChannelCredentials = {
        username: `pm-${randomBytes(6).toString('hex')}`,
        password: randomBytes(24).toString('base64url'),
      };
      await this.channels.saveCredentials(
        connection.id,
        this.box.seal(JSON.stringify(credentials), connection.id),
      );
      const registered = await this.vault.withSession(connection.id, (session) =>
        port.registerWebhooks(session, {
          url: this.callbackUrl(connection.id, connection.provider),
          username: credentials.username,
          password: credentials.password,
          objects: WEBHOOK_OBJECTS,
        }),
      );
      await this.channels.saveWebhooks(connection.id, registered.ids, new Date());
      return { webhooks: registered.ids.length };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn(`Webhooks of connection ${connection.id} not registered: ${message}`);
      return { webhooks: 0, error: message };
    }
  }

  private async remove(connection: CrmConnection, options = { quiet: true }): Promise<ChannelChange> {
    const port = this.ports?.[connection.provider];
    const channel = await this.channels.find(connection.id);
    if (!port || !channel || channel.webhookIds.length === 0) return { webhooks: 0 };
    try {
      await this.vault.withSession(connection.id, (session) =>
        port.removeWebhooks(session, channel.webhookIds),
      );
      await this.channels.saveWebhooks(connection.id, [], null);
      return { webhooks: channel.webhookIds.length };
    } catch (error) {
      if (!options.quiet) throw error;
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn(`Webhooks of connection ${connection.id} not removed: ${message}`);
      return { webhooks: 0, error: message };
    }
  }
}
