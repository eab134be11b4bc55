import type { WebhookRequest, WebhookSecrets } from '@pm/integration-port';
import { describeIntegrationPortContract } from '@pm/integration-port/testing';
import { approveAuthorization, createPipedriveSandbox } from '@pm/sandboxes';
import { PipedriveConnector } from '../src';
import { connectSession, pipedriveStaging, REDIRECT_URI } from './pipedrive-staging';

/** A v2.0 delivery as the Pipedrive sandbox sends it: the payload, authenticated with HTTP Basic only. */
function webhookRequest(
  change: { recordId: string; action: string },
  secrets: WebhookSecrets,
  companyId: string,
): WebhookRequest {
  const action = change.action === 'created' ? 'create' : change.action === 'deleted' ? 'delete' : 'change';
  const rawBody = Buffer.from(
    JSON.stringify({
      data: { id: Number(change.recordId) },
      previous: action === 'change' ? { name: 'Before' } : null,
      meta: {
        action,
        entity: 'person',
        entity_id: change.recordId,
        company_id: companyId,
        id: `event-${change.recordId}`,
        timestamp: new Date().toISOString(),
        version: '2.0',
      },
    }),
  );
  const credentials = Buffer.from(`${secrets.username ?? ''}:${secrets.secret}`).toString('base64');
  return {
    method: 'POST',
    url: 'https://app.example.test/webhooks/pipedrive',
    headers: { 'content-type': 'application/json', authorization: `Basic ${credentials}` },
    rawBody,
    receivedAt: new Date(),
  };
}

describeIntegrationPortContract('Pipedrive connector against the Pipedrive sandbox', async () => {
  const sandbox = createPipedriveSandbox({ redirectUris: [REDIRECT_URI], seed: 5 });
  const base = await sandbox.start();
  const port = new PipedriveConnector({
    clientId: sandbox.oauth.clientId,
    clientSecret: sandbox.oauth.clientSecret,
    oauthBaseUrl: base,
    apiBaseUrl: base,
    requestTimeoutMs: 10_000,
  });
  const session = await connectSession(port, approveAuthorization);
  return {
    port,
    session: async () => session,
    contact: {
      object: 'persons',
      fields: { email: 'email', firstName: 'first_name', lastName: 'last_name' },
    },
    staging: pipedriveStaging(sandbox),
    // Look-ups are the e-mail search and list reads of persons.
    requests: {
      reset: () => sandbox.counters.reset(),
      lookups: () => sandbox.counters.countWhere((key) => /^GET \/api\/v2\/persons(\/search)?$/.test(key)),
    },
    oauth: { redirectUri: REDIRECT_URI },
    webhooks: {
      secrets: { username: 'penguinmails', secret: 'webhook-password' },
      buildRequest: (change, secrets) => webhookRequest(change, secrets, String(sandbox.companyId)),
    },
    close: () => sandbox.stop(),
  };
});
