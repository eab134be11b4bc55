import type { EncryptionKey } from '@pm/domain';

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
  /** Path prefix of the HTTP API (default 'api/v1'). */
  apiPrefix?: string;
}

export const CRM_INTEGRATIONS_OPTIONS = Symbol('CRM_INTEGRATIONS_OPTIONS');
