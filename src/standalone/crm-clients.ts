import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamicModule } from '@nestjs/common';
import {
  HUBSPOT_INTEGRATION_PORT,
  HubSpotConnectorModule,
  type HubSpotConnectorConfig,
} from '@pm/connectors/hubspot';
import {
  PIPEDRIVE_INTEGRATION_PORT,
  PipedriveConnectorModule,
  type PipedriveConnectorConfig,
} from '@pm/connectors/pipedrive';
import {
  SALESFORCE_INTEGRATION_PORT,
  SalesforceConnectorModule,
  type SalesforceConnectorConfig,
} from '@pm/connectors/salesforce';
import type { IntegrationPort, IntegrationPortMap } from '@pm/integration-port';
import type { EnvConfig } from './config/env.schema';

interface DemoSandboxInfo {
  crm: 'salesforce' | 'hubspot' | 'pipedrive';
  label: string;
  baseUrl: string;
  clientId: string;
  clientSecret: string;
}

const demoFile = (dataDir: string) => join(dataDir, 'demo-sandboxes.json');

/** The demo sandboxes a running `npm start` with this DATA_DIR wrote down, if each still answers. */
async function runningDemoSandboxes(
  dataDir: string,
  wanted: readonly string[],
): Promise<DemoSandboxInfo[] | undefined> {
  if (!existsSync(demoFile(dataDir))) return undefined;
  const recorded = JSON.parse(readFileSync(demoFile(dataDir), 'utf8')) as DemoSandboxInfo[];
  if (!wanted.every((crm) => recorded.some((sandbox) => sandbox.crm === crm))) return undefined;
  const alive = await Promise.all(
    recorded.map((sandbox) =>
      fetch(`${sandbox.baseUrl}/__sandbox`, { signal: AbortSignal.timeout(1_000) }).then(
        (response) => response.ok,
        () => false,
      ),
    ),
  );
  return alive.every(Boolean) ? recorded.filter((sandbox) => wanted.includes(sandbox.crm)) : undefined;
}

/** The CRMs this service offers, each with its connector's configuration. */
export interface CrmClients {
  salesforce?: SalesforceConnectorConfig;
  hubspot?: HubSpotConnectorConfig;
  pipedrive?: PipedriveConnectorConfig;
  /** Lines saying which CRMs run against a local sandbox (demo mode), printed at start. */
  demoLines: string[];
  stopDemo(): Promise<void>;
}

/**
 * Resolves each CRM's OAuth client from the environment. A CRM with no client id runs in demo mode: its local
 * sandbox starts beside the service (with demo data) and its connector points at it. With real client ids no
 * sandbox is loaded at all — the sandboxes are never a runtime dependency of the product.
 */
export async function resolveCrmClients(env: EnvConfig, dataDir: string): Promise<CrmClients> {
  const clients: CrmClients = { demoLines: [], stopDemo: async () => undefined };
  if (env.SALESFORCE_CLIENT_ID && env.SALESFORCE_CLIENT_SECRET) {
    clients.salesforce = {
      clientId: env.SALESFORCE_CLIENT_ID,
      clientSecret: env.SALESFORCE_CLIENT_SECRET,
      loginUrl: env.SALESFORCE_LOGIN_URL,
    };
  }
  if (env.HUBSPOT_CLIENT_ID && env.HUBSPOT_CLIENT_SECRET) {
    clients.hubspot = {
      clientId: env.HUBSPOT_CLIENT_ID,
      clientSecret: env.HUBSPOT_CLIENT_SECRET,
      apiBaseUrl: env.HUBSPOT_API_URL,
      authorizeUrl: env.HUBSPOT_AUTHORIZE_URL,
    };
  }
  if (env.PIPEDRIVE_CLIENT_ID && env.PIPEDRIVE_CLIENT_SECRET) {
    clients.pipedrive = {
      clientId: env.PIPEDRIVE_CLIENT_ID,
      clientSecret: env.PIPEDRIVE_CLIENT_SECRET,
      oauthBaseUrl: env.PIPEDRIVE_OAUTH_URL,
      apiBaseUrl: env.PIPEDRIVE_API_URL,
    };
  }
  const missing = (['salesforce', 'hubspot', 'pipedrive'] as const).filter((crm) => !clients[crm]);
  if (env.DEMO_SANDBOXES === 'off' || missing.length === 0) return clients;

  // A worker (`npm run worker`) beside a running `npm start` with the same DATA_DIR uses that process's sandboxes.
  const shared = await runningDemoSandboxes(dataDir, missing);
  // Otherwise start them; loaded only in demo mode, so a configured deployment never loads sandbox code.
  const started = shared
    ? undefined
    : await import('../cli/sandbox').then(({ startDemoSandboxes }) =>
        startDemoSandboxes({ portBase: env.SANDBOX_PORT_BASE, crms: [...missing] }),
      );
  const sandboxes: DemoSandboxInfo[] =
    shared ?? started!.sandboxes.map(({ crm, label, server }) => ({ crm, label, ...server.info() }));
  if (started) {
    writeFileSync(demoFile(dataDir), JSON.stringify(sandboxes));
    clients.stopDemo = async () => {
      rmSync(demoFile(dataDir), { force: true });
      await started.stop();
    };
  }
  for (const { crm, label, baseUrl, clientId, clientSecret } of sandboxes) {
    if (crm === 'salesforce') {
      clients.salesforce = { clientId, clientSecret, loginUrl: baseUrl };
    } else if (crm === 'hubspot') {
      clients.hubspot = {
        clientId,
        clientSecret,
        apiBaseUrl: baseUrl,
        authorizeUrl: `${baseUrl}/oauth/authorize`,
      };
    } else if (crm === 'pipedrive') {
      clients.pipedrive = { clientId, clientSecret, oauthBaseUrl: baseUrl, apiBaseUrl: baseUrl };
    }
    clients.demoLines.push(
      `  demo: ${label} is the local sandbox at ${baseUrl} (set ${crm.toUpperCase()}_CLIENT_ID for the real one)`,
    );
  }
  return clients;
}

/**
 * The connector modules of the configured CRMs and the explicit provider → connector map built from their DI
 * tokens — the typed map the plugin chooses connectors from (no self-registration).
 */
export function connectorModules(clients: CrmClients): {
  imports: DynamicModule[];
  inject: symbol[];
  toMap: (...ports: IntegrationPort[]) => IntegrationPortMap;
} {
  const entries: { provider: string; module: DynamicModule; token: symbol }[] = [];
  if (clients.salesforce) {
    entries.push({
      provider: 'salesforce',
      module: SalesforceConnectorModule.register(clients.salesforce),
      token: SALESFORCE_INTEGRATION_PORT,
    });
  }
  if (clients.hubspot) {
    entries.push({
      provider: 'hubspot',
      module: HubSpotConnectorModule.register(clients.hubspot),
      token: HUBSPOT_INTEGRATION_PORT,
    });
  }
  if (clients.pipedrive) {
    entries.push({
      provider: 'pipedrive',
      module: PipedriveConnectorModule.register(clients.pipedrive),
      token: PIPEDRIVE_INTEGRATION_PORT,
    });
  }
  return {
    imports: entries.map((entry) => entry.module),
    inject: entries.map((entry) => entry.token),
    toMap: (...ports) => Object.fromEntries(entries.map((entry, i) => [entry.provider, ports[i]])),
  };
}
