import { createPipedriveSandbox } from '@pm/sandboxes';
import {
  describeConnectFlowAgainstSandbox,
  describeObjectCall,
} from '../../../../test/support/connect-flow-kit';
import { PipedriveConnector } from '../src';

/**
 * The shared connect flow (test/support/connect-flow-kit.ts) with the Pipedrive connector pointed at the Pipedrive
 * sandbox: HTTP Basic client authentication at the token endpoint, the company read from /users/me, the API host
 * from `api_domain`, revocation at /oauth/revoke.
 */
describeConnectFlowAgainstSandbox('Pipedrive', async () => {
  const sandbox = createPipedriveSandbox({ seed: 3 });
  const baseUrl = await sandbox.start();
  const connector = new PipedriveConnector({
    clientId: sandbox.oauth.clientId,
    clientSecret: sandbox.oauth.clientSecret,
    oauthBaseUrl: baseUrl,
    apiBaseUrl: baseUrl,
    requestTimeoutMs: 10_000,
  });
  return {
    provider: 'pipedrive',
    displayName: 'Pipedrive',
    accountName: 'Sandbox Company',
    sandbox,
    connector,
    authorize: { endpoint: `${baseUrl}/oauth/authorize`, pkce: false, scope: null },
    routes: { token: 'POST /oauth/token', revoke: 'POST /oauth/revoke' },
    // The company (id and name) comes from /users/me after the code exchange.
    connectCalls: ['POST /oauth/token', 'GET /api/v1/users/me'],
    connectedAs: { crmAccountId: String(sandbox.companyId), instanceUrl: baseUrl },
    refreshAnswersRefreshToken: true,
    revokedReason: 'invalid_grant',
    apiCall: describeObjectCall(connector, 'persons', 'GET /api/v1/personFields'),
    // A Pipedrive token is `<company>:<user>:<secret>`; the secret alone must not be stored either.
    secretPartsOf: (tokens) => [tokens.accessToken.split(':')[2]],
  };
});
