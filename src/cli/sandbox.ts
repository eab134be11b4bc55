// `npm run sandbox`: starts the Salesforce, HubSpot and Pipedrive sandboxes on fixed local ports with seeded demo
// data, and prints one line per CRM (name, base URL, OAuth client id and secret) to point an SDK or curl at.
// Ports: SANDBOX_PORT_BASE + 1 (Salesforce), + 2 (HubSpot), + 3 (Pipedrive); base 4100 by default.
// `startDemoSandboxes()` is exported for the `npm start` demo mode, which starts only the CRMs it needs.
import {
  createHubSpotSandbox,
  HubSpotSandbox,
  createPipedriveSandbox,
  createSalesforceSandbox,
  type SandboxServer,
} from '@pm/sandboxes';
import { isPortFree } from '../standalone/embedded-postgres';
import { persistSandbox, rememberedPorts, rememberPorts } from './demo-state';

export type DemoCrm = 'salesforce' | 'hubspot' | 'pipedrive';

export interface DemoSandbox {
  crm: DemoCrm;
  label: string;
  server: SandboxServer;
}

export interface DemoSandboxesOptions {
  /** Each CRM listens on portBase + its offset (Salesforce 1, HubSpot 2, Pipedrive 3); 0 = free ports. */
  portBase?: number;
  /** Which sandboxes to start (all three by default). */
  crms?: DemoCrm[];
  /** Seed of the demo data (the same data on every run). */
  seed?: number;
  /** DATA_DIR: keep each sandbox's changes, grants and port there across restarts (see demo-state.ts). */
  dataDir?: string;
  /**
   * The service's base URL: the demo HubSpot sends its app-level change webhooks to `<it>/webhooks/hubspot`, as
   * a HubSpot app configured for this service would (Pipedrive's are registered per connection).
   */
  serviceUrl?: string;
}

export const DEFAULT_SANDBOX_PORT_BASE = 4100;
const DEMO_RECORDS = 60;

const DEMO_CRMS: ReadonlyArray<{
  crm: DemoCrm;
  label: string;
  portOffset: number;
  create: (seed: number) => SandboxServer;
}> = [
  {
    crm: 'salesforce',
    label: 'Salesforce',
    portOffset: 1,
    create: (seed) => createSalesforceSandbox({ seed, demoData: { contacts: DEMO_RECORDS, leads: 20 } }),
  },
  {
    crm: 'hubspot',
    label: 'HubSpot',
    portOffset: 2,
    create: (seed) => {
      const hubspot = createHubSpotSandbox({ seed });
      hubspot.seedCompanies(10);
      hubspot.seedContacts(DEMO_RECORDS);
      return hubspot;
    },
  },
  {
    crm: 'pipedrive',
    label: 'Pipedrive',
    portOffset: 3,
    create: (seed) => createPipedriveSandbox({ seed, demoPersons: DEMO_RECORDS }),
  },
];

/** The port for one sandbox: fixed from the base, else the one it had last time when still free, else any. */
async function sandboxPort(
  portBase: number,
  offset: number,
  remembered: number | undefined,
): Promise<number> {
  if (portBase !== 0) return portBase + offset;
  return remembered && (await isPortFree(remembered)) ? remembered : 0;
}

/**
 * Starts the demo sandboxes; on failure, stops the ones already started and rethrows. With `dataDir`, each one
 * comes back with what it had when the last run stopped (or was killed); `restored` says so per CRM.
 */
export async function startDemoSandboxes(
  options: DemoSandboxesOptions = {},
): Promise<{ sandboxes: DemoSandbox[]; restored: string[]; stop: () => Promise<void> }> {
  const portBase = options.portBase ?? DEFAULT_SANDBOX_PORT_BASE;
  const wanted = new Set(options.crms ?? DEMO_CRMS.map((c) => c.crm));
  const remembered = options.dataDir ? rememberedPorts(options.dataDir) : {};
  const sandboxes: DemoSandbox[] = [];
  const restored: string[] = [];
  const stop = async () => {
    await Promise.all(sandboxes.map((s) => s.server.stop()));
  };
  try {
    for (const spec of DEMO_CRMS) {
      if (!wanted.has(spec.crm)) continue;
      const server = spec.create(options.seed ?? 2024);
      const persisted = options.dataDir ? persistSandbox(server, options.dataDir, spec.crm) : undefined;
      sandboxes.push({ crm: spec.crm, label: spec.label, server });
      await server.start(await sandboxPort(portBase, spec.portOffset, remembered[spec.crm]));
      const replay = await persisted?.afterStart();
      // After the replay, so restoring saved records sends no events to a service not listening yet.
      if (options.serviceUrl && server instanceof HubSpotSandbox) {
        server.subscribeWebhooks(`${options.serviceUrl}/webhooks/hubspot`);
      }
      if (replay && replay.replayed + replay.failed > 0) {
        restored.push(
          `${spec.label}: ${replay.replayed} saved change(s) replayed${replay.failed ? `, ${replay.failed} failed` : ''}`,
        );
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  if (options.dataDir) {
    const ports = Object.fromEntries(
      sandboxes.map(({ crm, server }) => [crm, Number(new URL(server.baseUrl).port)]),
    );
    rememberPorts(options.dataDir, { ...remembered, ...ports });
  }
  return { sandboxes, restored, stop };
}

/** One line per CRM: name, base URL, OAuth client id and client secret. */
export function describeSandboxes(sandboxes: DemoSandbox[]): string[] {
  const width = Math.max(...sandboxes.map((s) => s.label.length));
  return sandboxes.map(({ label, server }) => {
    const info = server.info();
    return `${label.padEnd(width)}  ${info.baseUrl}  client_id=${info.clientId}  client_secret=${info.clientSecret}`;
  });
}

function portBaseFromEnv(): number {
  const raw = process.env.SANDBOX_PORT_BASE;
  if (raw === undefined || raw === '') return DEFAULT_SANDBOX_PORT_BASE;
  const base = Number(raw);
  if (!Number.isInteger(base) || base < 1 || base > 65_530) {
    throw new Error(`SANDBOX_PORT_BASE must be an integer between 1 and 65530, got "${raw}"`);
  }
  return base;
}

async function main(): Promise<void> {
  const { sandboxes, stop } = await startDemoSandboxes({ portBase: portBaseFromEnv() });
  for (const line of describeSandboxes(sandboxes)) process.stdout.write(`${line}\n`);
  process.stdout.write(
    'Control API: GET <base URL>/__sandbox (see libs/sandboxes/README.md). Ctrl+C stops.\n',
  );
  const shutdown = (signal: NodeJS.Signals) => {
    process.stdout.write(`\n${signal}: stopping sandboxes\n`);
    void stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`sandbox: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
