import { describeIntegrationPortContract } from '@pm/integration-port/testing';
import { createContractFixture } from '../src/testing';

// The shared IntegrationPort contract: the Salesforce connector (jsforce over HTTP) against the Salesforce sandbox.
describeIntegrationPortContract('Salesforce', createContractFixture);
