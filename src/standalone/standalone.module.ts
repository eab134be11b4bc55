import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import { CrmIntegrationsModule, type CrmIntegrationsOptions } from '../crm-integrations';
import { parseEnv } from './config/env.schema';
import { loggerOptions } from './logger';
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
    return {
      module: StandaloneModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validate: parseEnv }),
        LoggerModule.forRoot(loggerOptions(runtime.env.LOG_LEVEL)),
        CrmIntegrationsModule.forRoot({
          database: { clientUrl: runtime.databaseUrl, schema: runtime.env.DATABASE_SCHEMA },
          encryption: runtime.encryption,
          publicUrl: runtime.publicUrl,
          platformServiceToken: runtime.env.SERVICE_TOKEN,
          ...overrides,
        }),
        ...extra,
      ],
    };
  }
}
