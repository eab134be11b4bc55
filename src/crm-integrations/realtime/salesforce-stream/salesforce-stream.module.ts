import { Module, type DynamicModule } from '@nestjs/common';
import { ChangeStreamPositionRepository } from '../../repositories/change-stream-position.repository';
import {
  SALESFORCE_STREAM_OPTIONS,
  SalesforceChangeSubscriber,
  type SalesforceStreamOptions,
} from './salesforce-change-subscriber';

/**
 * The Salesforce Change Data Capture subscriber, for a process that runs workers (one subscriber per connection
 * across the deployment is enough; two only repeat hints). Relies on the global CrmIntegrationsModule (ORM, token
 * vault, connectors) and on a bound CHANGE_HINT_SINK; without a sink it subscribes to nothing.
 */
@Module({})
export class SalesforceStreamModule {
  static forRoot(options: SalesforceStreamOptions = {}): DynamicModule {
    return {
      module: SalesforceStreamModule,
      providers: [
        { provide: SALESFORCE_STREAM_OPTIONS, useValue: options },
        ChangeStreamPositionRepository,
        SalesforceChangeSubscriber,
      ],
      exports: [SalesforceChangeSubscriber, ChangeStreamPositionRepository],
    };
  }
}
