import { createHubSpotSandbox } from '@pm/sandboxes';
import { HubSpotConnector } from '@pm/connectors/hubspot';
import {
  CONNECT_FLOW_PUBLIC_URL,
  describeConnectFlowAgainstSandbox,
  describeObjectCall,
} from '../../../../test/support/connect-flow-kit';
import { hubSpotConnectorConfig } from '../src/testing';

/**
 * The shared connect flow (test/support/connect-flow-kit.ts) with the HubSpot connector pointed at the HubSpot
 * sandbox: no PKCE, the portal read from the access-token info endpoint, refresh tokens that HubSpot repeats but
 * never rotates, revocation by DELETE /oauth/v1/refresh-tokens/{token}.
 */
describeConnectFlowAgainstSandbox('HubSpot', async () => {
  const sandbox = createHubSpotSandbox({
    redirectUris: [`${CONNECT_FLOW_PUBLIC_URL}/oauth/hubspot/callback`],
  });
  const baseUrl = await sandbox.start();
  const connector = new HubSpotConnector(hubSpotConnectorConfig(baseUrl, sandbox));
  return {
    provider: 'hubspot',
    displayName: 'HubSpot',
    accountName: `sandbox-portal-${sandbox.portalId}.hubspot.example`,
    sandbox,
    connector,
    authorize: {
      endpoint: `${baseUrl}/oauth/authorize`,
      pkce: false,
      scope: expect.stringMatching(/(^| )crm\.objects\.contacts\.write( |$)/),
    },
    routes: { token: 'POST /oauth/v1/token', revoke: 'DELETE /oauth/v1/refresh-tokens/:token' },
    // The token answer names no portal: the access-token info endpoint does.
    connectCalls: ['POST /oauth/v1/token', 'GET /oauth/v1/access-tokens/:token'],
    connectedAs: { crmAccountId: String(sandbox.portalId), settings: { objects: ['contacts'] } },
    refreshAnswersRefreshToken: true,
    revokedReason: 'missing or invalid refresh token',
    apiCall: describeObjectCall(connector, 'contacts', 'GET /crm/v3/properties/:objectType'),
  };
});
