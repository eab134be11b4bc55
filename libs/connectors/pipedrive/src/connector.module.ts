import { Module, type DynamicModule } from '@nestjs/common';
import type { PipedriveConnectorConfig } from './config';
import { PipedriveConnector } from './connector';

/** DI token of the Pipedrive IntegrationPort; the app puts it in its explicit provider → connector map. */
export const PIPEDRIVE_INTEGRATION_PORT = Symbol('PIPEDRIVE_INTEGRATION_PORT');

@Module({})
export class PipedriveConnectorModule {
  static register(config: PipedriveConnectorConfig): DynamicModule {
    return {
      module: PipedriveConnectorModule,
      providers: [{ provide: PIPEDRIVE_INTEGRATION_PORT, useFactory: () => new PipedriveConnector(config) }],
      exports: [PIPEDRIVE_INTEGRATION_PORT],
    };
  }
}
