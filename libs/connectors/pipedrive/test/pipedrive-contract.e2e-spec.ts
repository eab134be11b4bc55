import { describeIntegrationPortContract } from '@pm/integration-port/testing';
import { pipedriveContractFixture } from '../src/testing';

describeIntegrationPortContract(
  'Pipedrive connector against the Pipedrive sandbox',
  pipedriveContractFixture,
);
