import type { CrmSession, WebhookRequest, WebhookSecrets } from '@pm/integration-port';
import type { ContractFixture } from '@pm/integration-port/testing';
import { createPipedriveSandbox, type PipedriveSandbox, type PipedriveSandboxOptions } from '@pm/sandboxes';
import { startSandboxTestBed, type SandboxTestBed } from '@pm/sandboxes/testing';
import type { TokenSet } from '@pm/integration-port';
import { PipedriveConnector } from '../connector';
import type { PipedriveConnectorConfig } from '../config';
import { connectSession, pipedriveStaging, REDIRECT_URI } from './pipedrive-staging';

/** A Pipedrive sandbox and a connector pointed at it, with a session from the real OAuth dance. */
export interface PipedriveTestBed extends SandboxTestBed<PipedriveSandbox, PipedriveConnector, TokenSet> {
  /** A session signed in once and reused. */
  session(): Promise<CrmSession>;
}

export async function startPipedriveTestBed(
  options: { sandbox?: PipedriveSandboxOptions; connector?: Partial<PipedriveConnectorConfig> } = {},
): Promise<PipedriveTestBed> {
  const bed = await startSandboxTestBed({
    sandbox: createPipedriveSandbox({ redirectUris: [REDIRECT_URI], seed: 5, ...options.sandbox }),
    connector: (baseUrl, sandbox) =>
      new PipedriveConnector({
        clientId: sandbox.oauth.clientId,
        clientSecret: sandbox.oauth.clientSecret,
        oauthBaseUrl: baseUrl,
        apiBaseUrl: baseUrl,
        requestTimeoutMs: 10_000,
        ...options.connector,
      }),
    redirectUri: REDIRECT_URI,
  });
  let session: Promise<CrmSession> | undefined;
  return { ...bed, session: () => (session ??= connectSession(bed.connector)) };
}

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

/** The contract kit's fixture: staging goes "into Pipedrive" through the sandbox. */
export async function pipedriveContractFixture(): Promise<ContractFixture> {
  const bed = await startPipedriveTestBed();
  const { sandbox, connector: port } = bed;
  const session = await bed.session();
  // An admin's own person field holding a key from another system; the port names it by its 40-hex key.
  const externalKey = sandbox.addPersonField('External key', 'varchar').key;
  return {
    port,
    session: async () => session,
    contact: {
      object: 'persons',
      fields: { email: 'email', firstName: 'first_name', lastName: 'last_name', customKey: externalKey },
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
    close: () => bed.close(),
  };
}
