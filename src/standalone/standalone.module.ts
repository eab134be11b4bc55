import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import { CrmIntegrationsModule, type CrmIntegrationsOptions } from '../crm-integrations';
import type { IntegrationPort } from '@pm/integration-port';
import { parseEnv } from './config/env.schema';
import { connectorModules } from './crm-clients';
import { loggerOptions, resolveLogFormat } from './logger';
import type { StandaloneRuntime } from './runtime';

/**
 * The standalone service: the first host of the plugin. It owns what a host owns (config, logging, the
 * database it points at) and mounts `CrmIntegrationsModule` like any other host would.
 */
@Module({})
export class StandaloneModule {
  static forRoot(
    runtime: StandaloneRuntime,
    extra: DynamicModule[] = [],
    overrides: Partial<CrmIntegrationsOptions> = {},
  ): DynamicModule {
    const options: CrmIntegrationsOptions = {
      database: { clientUrl: runtime.databaseUrl, schema: runtime.env.DATABASE_SCHEMA },
      encryption: runtime.encryption,
      publicUrl: runtime.publicUrl,
      platformServiceToken: runtime.env.SERVICE_TOKEN,
      webhooks: { allowPrivateReceivers: runtime.env.WEBHOOK_ALLOW_PRIVATE_RECEIVERS },
      retention: {
        changeFeedDays: runtime.env.RETENTION_CHANGE_FEED_DAYS,
        webhookDeliveryDays: runtime.env.RETENTION_WEBHOOK_DELIVERY_DAYS,
        syncLogDays: runtime.env.RETENTION_SYNC_LOG_DAYS,
      },
      // HubSpot signs its app-level webhooks with the app's client secret.
      webhookSecrets: { hubspot: runtime.crmClients.hubspot?.clientSecret },
      ...overrides,
    };
    // The connector modules of the configured CRMs provide the ports the plugin's explicit map is built from;
    // a test may hand the map in directly instead.
    const connectors = connectorModules(runtime.crmClients);
    const plugin = options.connectors
      ? CrmIntegrationsModule.forRoot(options)
      : CrmIntegrationsModule.forRootAsync({
          imports: connectors.imports,
          inject: connectors.inject,
          useFactory: (...ports: IntegrationPort[]) => ({
            ...options,
            connectors: connectors.toMap(...ports),
          }),
        });
    return {
      module: StandaloneModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validate: parseEnv }),
        LoggerModule.forRoot(
          loggerOptions(
            runtime.env.LOG_LEVEL,
            resolveLogFormat(runtime.env.LOG_FORMAT),
            runtime.env.LOG_FILE,
          ),
        ),
        plugin,
        ...extra,
      ],
    };
  }
}
