import { Module, type DynamicModule } from '@nestjs/common';
import type { HubSpotConnectorConfig } from './config';
import { HubSpotConnector } from './connector';

/** DI token of the HubSpot `IntegrationPort`; the app puts it in its provider → connector map. */
export const HUBSPOT_INTEGRATION_PORT = Symbol('HUBSPOT_INTEGRATION_PORT');
export const HUBSPOT_CONNECTOR_CONFIG = Symbol('HUBSPOT_CONNECTOR_CONFIG');

@Module({})
export class HubSpotConnectorModule {
  static register(config: HubSpotConnectorConfig): DynamicModule {
    return {
      module: HubSpotConnectorModule,
      providers: [
        { provide: HUBSPOT_CONNECTOR_CONFIG, useValue: config },
        {
          provide: HUBSPOT_INTEGRATION_PORT,
          inject: [HUBSPOT_CONNECTOR_CONFIG],
          useFactory: (value: HubSpotConnectorConfig) => new HubSpotConnector(value),
        },
      ],
      exports: [HUBSPOT_INTEGRATION_PORT],
    };
  }
}
