import { describeConnectFlowAgainstSandbox } from '../../../../test/support/connect-flow-kit';
import { connectorFor, startSalesforceSandbox } from '../src/testing';

/**
 * The shared connect flow (test/support/connect-flow-kit.ts) with the Salesforce connector pointed at the Salesforce
 * sandbox: the web server flow with PKCE on the login host, the identity URL naming the org, refresh without
 * rotation (Salesforce sends no new refresh token), revocation at /services/oauth2/revoke.
 */
describeConnectFlowAgainstSandbox('Salesforce', async () => {
  const sandbox = await startSalesforceSandbox();
  const connector = connectorFor(sandbox);
  sandbox.seedContacts(3);
  return {
    provider: 'salesforce',
    displayName: 'Salesforce',
    // The connector learns the org's id from the token answer's identity URL, not its name: the page names none.
    accountName: null,
    sandbox,
    connector,
    authorize: {
      endpoint: `${sandbox.loginUrl}/services/oauth2/authorize`,
      pkce: true,
      scope: 'api refresh_token',
    },
    routes: { token: 'POST /services/oauth2/token', revoke: 'POST /services/oauth2/revoke' },
    // The token answer's `id` (identity URL) names the org, so connecting needs no further call.
    connectCalls: ['POST /services/oauth2/token'],
    connectedAs: { crmAccountId: sandbox.org.orgId, instanceUrl: sandbox.baseUrl },
    refreshAnswersRefreshToken: false,
    revokedReason: 'expired access/refresh token',
    apiCall: {
      route: 'GET /services/data/:version/queryAll',
      run: async (session) => {
        const page = await connector.readChanges(session, { object: 'Contact', since: null });
        expect(page.records).toHaveLength(3);
      },
    },
  };
});
