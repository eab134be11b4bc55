import { Module, type DynamicModule } from '@nestjs/common';
import { ChangeStreamLeaseRepository } from '../../repositories/change-stream-lease.repository';
import { ChangeStreamPositionRepository } from '../../repositories/change-stream-position.repository';
import {
  SALESFORCE_STREAM_OPTIONS,
  SalesforceChangeSubscriber,
  type SalesforceStreamOptions,
} from './salesforce-change-subscriber';

/**
 * The Salesforce Change Data Capture subscriber, for every process that runs workers: a lease per connection makes
 * one of them follow each stream, and another take it over when that one stops. Relies on the global CrmIntegrationsModule (ORM, token
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
        ChangeStreamLeaseRepository,
        SalesforceChangeSubscriber,
      ],
      exports: [SalesforceChangeSubscriber, ChangeStreamPositionRepository],
    };
  }
}
