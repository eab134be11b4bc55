import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EncryptionKey } from '@pm/domain';
import { parseEnv, type EnvConfig } from './config/env.schema';
import { resolveCrmClients, type CrmClients } from './crm-clients';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded-postgres';

/** Everything the standalone service resolves before Nest starts: config, secrets, and a database to talk to. */
export interface StandaloneRuntime {
  env: EnvConfig;
  dataDir: string;
  databaseUrl: string;
  embeddedDatabase?: EmbeddedPostgresHandle;
  encryption: { current: EncryptionKey; previous: EncryptionKey[] };
  sessionSecret: string;
  publicUrl: string;
  /** Each offered CRM's OAuth client; in demo mode, pointing at a local sandbox started here. */
  crmClients: CrmClients;
  /** Stops what the runtime started (demo sandboxes, the embedded database). */
  stop(): Promise<void>;
}

/** Reads a secret file from DATA_DIR/secrets, creating it (mode 0600) on first start. Never lives in the repo. */
function persistentSecret(dataDir: string, name: string, create: () => string): string {
  const dir = join(dataDir, 'secrets');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, name);
  if (!existsSync(file)) {
    writeFileSync(file, create(), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return readFileSync(file, 'utf8').trim();
}

export function resolveEncryption(env: EnvConfig, dataDir: string): StandaloneRuntime['encryption'] {
  const previous = (env.TOKEN_ENCRYPTION_PREVIOUS_KEYS ?? '')
    .split(',')
    .filter(Boolean)
    .map((pair) => {
      const [id, key] = pair.split(':');
      return { id, key: Buffer.from(key, 'base64') };
    });
  if (env.TOKEN_ENCRYPTION_KEY) {
    return {
      current: {
        id: env.TOKEN_ENCRYPTION_KEY_ID ?? 'env',
        key: Buffer.from(env.TOKEN_ENCRYPTION_KEY, 'base64'),
      },
      previous,
    };
  }
  const stored = JSON.parse(
    persistentSecret(dataDir, 'token-encryption-key.json', () =>
      JSON.stringify({ id: `local-${Date.now().toString(36)}`, key: randomBytes(32).toString('base64') }),
    ),
  ) as { id: string; key: string };
  return { current: { id: stored.id, key: Buffer.from(stored.key, 'base64') }, previous };
}

export async function prepareRuntime(
  rawEnv: Record<string, string | undefined> = process.env,
  options: { database?: boolean; crms?: boolean } = {},
): Promise<StandaloneRuntime> {
  const env = parseEnv(rawEnv);
  const dataDir = resolve(env.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const encryption = resolveEncryption(env, dataDir);
  const sessionSecret =
    env.SESSION_SECRET ??
    persistentSecret(dataDir, 'session-secret', () => randomBytes(48).toString('base64url'));
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/$/, '');

  let databaseUrl = env.DATABASE_URL;
  let embeddedDatabase: EmbeddedPostgresHandle | undefined;
  if (!databaseUrl && options.database !== false) {
    // Remember the embedded server's port so a restart finds the same URL (and two services with different
    // DATA_DIRs never fight over one).
    const portFile = join(dataDir, 'postgres.port');
    const rememberedPort = existsSync(portFile) ? Number(readFileSync(portFile, 'utf8')) : undefined;
    // A running `npm start` of this DATA_DIR already serves the cluster: a CLI command or worker joins it.
    embeddedDatabase = await startEmbeddedPostgres({
      dataDir: join(dataDir, 'postgres'),
      ownedDir: dataDir,
      port: env.EMBEDDED_DB_PORT ?? rememberedPort,
      database: 'crm_integrations',
    });
    if (!embeddedDatabase.joined) writeFileSync(portFile, String(embeddedDatabase.port));
    databaseUrl = embeddedDatabase.url;
  }
  const crmClients =
    options.crms === false
      ? { demoLines: [], stopDemo: async () => undefined }
      : await resolveCrmClients(env, dataDir, publicUrl).catch(async (error: unknown) => {
          await embeddedDatabase?.stop();
          throw error;
        });
  return {
    env,
    dataDir,
    databaseUrl: databaseUrl ?? '',
    embeddedDatabase,
    encryption,
    sessionSecret,
    publicUrl,
    crmClients,
    stop: async () => {
      await crmClients.stopDemo();
      await embeddedDatabase?.stop();
    },
  };
}
