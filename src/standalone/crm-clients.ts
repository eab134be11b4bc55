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
  crm: keyof CrmConfigs;
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

interface CrmConfigs {
  salesforce: SalesforceConnectorConfig;
  hubspot: HubSpotConnectorConfig;
  pipedrive: PipedriveConnectorConfig;
}

/** The CRMs this service offers, each with its connector's configuration. */
export interface CrmClients extends Partial<CrmConfigs> {
  /** Lines saying which CRMs run against a local sandbox (demo mode), printed at start. */
  demoLines: string[];
  stopDemo(): Promise<void>;
}

/**
 * Everything the standalone host knows per CRM, as one typed table: how its connector is configured from the
 * environment or from a local sandbox, and which Nest module and DI token provide its port.
 */
interface CrmEntry<Config> {
  fromEnv(env: EnvConfig): Config | undefined;
  fromSandbox(sandbox: { baseUrl: string; clientId: string; clientSecret: string }): Config;
  module(config: Config): DynamicModule;
  token: symbol;
}

const CRMS: { [Crm in keyof CrmConfigs]: CrmEntry<CrmConfigs[Crm]> } = {
  salesforce: {
    fromEnv: (env) =>
      env.SALESFORCE_CLIENT_ID && env.SALESFORCE_CLIENT_SECRET
        ? {
            clientId: env.SALESFORCE_CLIENT_ID,
            clientSecret: env.SALESFORCE_CLIENT_SECRET,
            loginUrl: env.SALESFORCE_LOGIN_URL,
          }
        : undefined,
    fromSandbox: ({ baseUrl, clientId, clientSecret }) => ({ clientId, clientSecret, loginUrl: baseUrl }),
    module: (config) => SalesforceConnectorModule.register(config),
    token: SALESFORCE_INTEGRATION_PORT,
  },
  hubspot: {
    fromEnv: (env) =>
      env.HUBSPOT_CLIENT_ID && env.HUBSPOT_CLIENT_SECRET
        ? {
            clientId: env.HUBSPOT_CLIENT_ID,
            clientSecret: env.HUBSPOT_CLIENT_SECRET,
            apiBaseUrl: env.HUBSPOT_API_URL,
            authorizeUrl: env.HUBSPOT_AUTHORIZE_URL,
          }
        : undefined,
    fromSandbox: ({ baseUrl, clientId, clientSecret }) => ({
      clientId,
      clientSecret,
      apiBaseUrl: baseUrl,
      authorizeUrl: `${baseUrl}/oauth/authorize`,
    }),
    module: (config) => HubSpotConnectorModule.register(config),
    token: HUBSPOT_INTEGRATION_PORT,
  },
  pipedrive: {
    fromEnv: (env) =>
      env.PIPEDRIVE_CLIENT_ID && env.PIPEDRIVE_CLIENT_SECRET
        ? {
            clientId: env.PIPEDRIVE_CLIENT_ID,
            clientSecret: env.PIPEDRIVE_CLIENT_SECRET,
            oauthBaseUrl: env.PIPEDRIVE_OAUTH_URL,
            apiBaseUrl: env.PIPEDRIVE_API_URL,
          }
        : undefined,
    fromSandbox: ({ baseUrl, clientId, clientSecret }) => ({
      clientId,
      clientSecret,
      oauthBaseUrl: baseUrl,
      apiBaseUrl: baseUrl,
    }),
    module: (config) => PipedriveConnectorModule.register(config),
    token: PIPEDRIVE_INTEGRATION_PORT,
  },
};

type Crm = keyof CrmConfigs;
const CRM_IDS = Object.keys(CRMS) as Crm[];

/** Sets one CRM's config; the generic keeps the CRM and its config type together. */
function setConfig<C extends Crm>(clients: CrmClients, crm: C, config: CrmConfigs[C]): void {
  clients[crm] = config as CrmClients[C];
}

/**
 * Resolves each CRM's OAuth client from the environment. A CRM with no client id runs in demo mode: its local
 * sandbox starts beside the service (with demo data) and its connector points at it. With real client ids no
 * sandbox is loaded at all — the sandboxes are never a runtime dependency of the product.
 */
export async function resolveCrmClients(
  env: EnvConfig,
  dataDir: string,
  serviceUrl?: string,
): Promise<CrmClients> {
  const clients: CrmClients = { demoLines: [], stopDemo: async () => undefined };
  for (const crm of CRM_IDS) {
    const config = CRMS[crm].fromEnv(env);
    if (config) setConfig(clients, crm, config);
  }
  const missing = CRM_IDS.filter((crm) => !clients[crm]);
  if (env.DEMO_SANDBOXES === 'off' || missing.length === 0) return clients;

  // A worker (`npm run worker`) beside a running `npm start` with the same DATA_DIR uses that process's sandboxes.
  const shared = await runningDemoSandboxes(dataDir, missing);
  // Otherwise start them; loaded only in demo mode, so a configured deployment never loads sandbox code.
  const started = shared
    ? undefined
    : await import('../cli/sandbox').then(({ startDemoSandboxes }) =>
        startDemoSandboxes({ portBase: env.SANDBOX_PORT_BASE, crms: [...missing], dataDir, serviceUrl }),
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
    setConfig(clients, crm, CRMS[crm].fromSandbox({ baseUrl, clientId, clientSecret }));
    clients.demoLines.push(
      `  demo: ${label} is the local sandbox at ${baseUrl} (set ${crm.toUpperCase()}_CLIENT_ID for the real one)`,
    );
  }
  if (started) {
    // Its records, OAuth clients, grants and port live in DATA_DIR/demo, so connections keep working after a restart.
    for (const line of started.restored) clients.demoLines.push(`  demo: ${line} from ${dataDir}/demo`);
    clients.demoLines.push(
      '  demo: data is kept across restarts in DATA_DIR/demo; `npm run demo:reset` starts over',
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
  const entries = CRM_IDS.flatMap((crm) => {
    const config = clients[crm];
    if (!config) return [];
    const entry = CRMS[crm] as CrmEntry<typeof config>;
    return [{ provider: crm, module: entry.module(config), token: entry.token }];
  });
  return {
    imports: entries.map((entry) => entry.module),
    inject: entries.map((entry) => entry.token),
    toMap: (...ports) => Object.fromEntries(entries.map((entry, i) => [entry.provider, ports[i]])),
  };
}
