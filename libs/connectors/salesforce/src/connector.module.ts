import { Module, type DynamicModule } from '@nestjs/common';
import type { SalesforceConnectorConfig } from './config';
import { SalesforceConnector } from './connector';

/** DI token of the Salesforce connector (an `IntegrationPort`); the app puts it in its provider → connector map. */
export const SALESFORCE_INTEGRATION_PORT = Symbol('SALESFORCE_INTEGRATION_PORT');

/** Provides the Salesforce connector configured for one connected app (or a local Salesforce sandbox). */
@Module({})
export class SalesforceConnectorModule {
  static register(config: SalesforceConnectorConfig): DynamicModule {
    return {
      module: SalesforceConnectorModule,
      providers: [
        { provide: SALESFORCE_INTEGRATION_PORT, useFactory: () => new SalesforceConnector(config) },
      ],
      exports: [SALESFORCE_INTEGRATION_PORT],
    };
  }
}
