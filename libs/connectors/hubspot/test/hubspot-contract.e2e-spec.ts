import { describeIntegrationPortContract } from '@pm/integration-port/testing';
import { hubSpotContractFixture } from '../src/testing';

// The shared IntegrationPort contract, run against the HubSpot connector and the HubSpot sandbox over real HTTP
// with @hubspot/api-client.
describeIntegrationPortContract('HubSpot connector', hubSpotContractFixture);
