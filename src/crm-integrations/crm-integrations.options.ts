import type { EncryptionKey } from '@pm/domain';
import type { IntegrationPortMap } from '@pm/integration-port';

/** What a host app gives the plugin. The standalone service builds this from its environment. */
export interface CrmIntegrationsOptions {
  database: {
    clientUrl: string;
    /** A PostgreSQL schema for the plugin's tables, so they stay apart from the host's. */
    schema?: string;
    /** Apply committed migrations when the module starts (default true). */
    migrateOnStart?: boolean;
    poolMax?: number;
  };
  encryption: { current: EncryptionKey; previous?: EncryptionKey[] };
  /** Where browsers reach the service: OAuth callback URLs are built from it. */
  publicUrl: string;
  /** A platform-wide service token (reaches every tenant); tenant tokens live in the database. */
  platformServiceToken?: string;
  /**
   * The explicit provider → connector map (no self-registering adapters). The standalone service builds it from
   * the connector libraries; a test may pass an in-memory connector.
   */
  connectors?: IntegrationPortMap;
  /**
   * Signing secrets of app-level webhooks, by provider: HubSpot signs every portal's events with the app's client
   * secret. A provider without one answers its webhook route 404.
   */
  webhookSecrets?: Partial<Record<string, string>>;
  /** Origins the OAuth callback may send the browser back to (`returnTo`); default: the publicUrl's origin. */
  allowedReturnOrigins?: string[];
  /**
   * The API's clock (token expiry and last-used time, "today" in the counts); default the system clock. Tests pass
   * a controllable one.
   */
  clock?: () => Date;
  /** How long kept records live before the hourly retention pass deletes them (see RetentionService). */
  retention?: RetentionOptions;
  webhooks?: {
    /**
     * Let tenants' webhook URLs reach loopback, private and link-local addresses (a backend on the same private
     * network, the demo, tests). Off by default: a tenant token must not make the service call into its network.
     */
    allowPrivateReceivers?: boolean;
  };
}

export const CRM_INTEGRATIONS_OPTIONS = Symbol('CRM_INTEGRATIONS_OPTIONS');

/** Days each kind of record is kept; defaults in `RETENTION_DEFAULTS`. */
export interface RetentionOptions {
  /** Change feed entries (a reader further behind gets 410 and starts again). */
  changeFeedDays?: number;
  /** Settled webhook deliveries (delivered or given up); pending ones are never deleted. */
  webhookDeliveryDays?: number;
  /** Sync log lines. */
  syncLogDays?: number;
}

export const RETENTION_DEFAULTS: Required<RetentionOptions> = {
  changeFeedDays: 30,
  webhookDeliveryDays: 30,
  syncLogDays: 90,
};
