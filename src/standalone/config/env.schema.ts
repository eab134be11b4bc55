import { z } from 'zod';

/**
 * Every environment variable the standalone service reads, validated once at start into `EnvConfig`.
 * `.env.example` documents each; keep the two in step.
 */
const port = z.coerce.number().int().min(0).max(65535);
const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();
const optionalUrl = optionalString.pipe(z.url().optional());

export const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().trim().min(1).default('0.0.0.0'),
    PORT: port.default(3000),
    /** Unset: start an embedded PostgreSQL with its data under DATA_DIR. */
    DATABASE_URL: optionalString.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
        .optional(),
    ),
    DATABASE_SCHEMA: optionalString,
    DATA_DIR: z.string().trim().min(1).default('./.data'),
    /** Port for the embedded PostgreSQL; unset: chosen once and remembered in DATA_DIR. */
    EMBEDDED_DB_PORT: z.preprocess(
      (value) => (value === '' ? undefined : value),
      port.refine((value) => value !== 5432, 'must not be 5432').optional(),
    ),
    /** base64 of 32 bytes. Unset: generated into DATA_DIR/secrets on first start. */
    TOKEN_ENCRYPTION_KEY: optionalString.pipe(
      z
        .string()
        .refine((value) => Buffer.from(value, 'base64').length === 32, 'must be base64 of exactly 32 bytes')
        .optional(),
    ),
    TOKEN_ENCRYPTION_KEY_ID: optionalString,
    /** Older keys still able to decrypt: "id:base64,id:base64". */
    TOKEN_ENCRYPTION_PREVIOUS_KEYS: optionalString.pipe(
      z
        .string()
        .regex(
          /^([A-Za-z0-9_.-]+:[A-Za-z0-9+/=]+)(,[A-Za-z0-9_.-]+:[A-Za-z0-9+/=]+)*$/,
          'must be id:base64[,id:base64…]',
        )
        .optional(),
    ),
    /** The first AdminJS login, created on start when no admin exists. */
    ADMIN_EMAIL: optionalString.pipe(z.email().optional()),
    ADMIN_PASSWORD: optionalString.pipe(z.string().min(8, 'must be at least 8 characters').optional()),
    /** Signs the AdminJS session cookie. Unset: generated into DATA_DIR/secrets. */
    SESSION_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
    /** A platform-wide service token for the PenguinMails backend (reaches every tenant). */
    SERVICE_TOKEN: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
    /** Where users' browsers reach this service; OAuth callbacks are built from it. */
    PUBLIC_URL: optionalUrl,
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Write log lines (JSON) to this file instead of stdout, appending (the test suite's secret scan reads it). */
    LOG_FILE: optionalString,
    /** pretty: one readable line per entry (pino-pretty); json: one JSON object per line. Unset: pretty on a terminal. */
    LOG_FORMAT: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.enum(['pretty', 'json']).optional(),
    ),
    // CRM OAuth clients. A CRM without a client id runs against its local sandbox in demo mode (DEMO_SANDBOXES).
    SALESFORCE_CLIENT_ID: optionalString,
    SALESFORCE_CLIENT_SECRET: optionalString,
    SALESFORCE_LOGIN_URL: optionalUrl,
    HUBSPOT_CLIENT_ID: optionalString,
    HUBSPOT_CLIENT_SECRET: optionalString,
    HUBSPOT_API_URL: optionalUrl,
    HUBSPOT_AUTHORIZE_URL: optionalUrl,
    PIPEDRIVE_CLIENT_ID: optionalString,
    PIPEDRIVE_CLIENT_SECRET: optionalString,
    PIPEDRIVE_OAUTH_URL: optionalUrl,
    PIPEDRIVE_API_URL: optionalUrl,
    /** auto: start a CRM's local sandbox when it has no client id configured; off: that CRM is not offered. */
    DEMO_SANDBOXES: z.enum(['auto', 'off']).default('auto'),
    /** Demo sandboxes listen on this base + 1/2/3; 0 picks free ports. */
    SANDBOX_PORT_BASE: z.preprocess((value) => (value === '' ? undefined : value), port.default(0)),
    /** Run the sync workers in this process (npm start) — `npm run worker` runs them alone. */
    RUN_WORKERS: z
      .enum(['true', 'false'])
      .default('true')
      .transform((value) => value === 'true'),
    /** Let tenants' webhook URLs reach loopback and private addresses (a backend on the same private network). */
    WEBHOOK_ALLOW_PRIVATE_RECEIVERS: z
      .enum(['true', 'false'])
      .default('false')
      .transform((value) => value === 'true'),
    /** Days the retention pass keeps change feed entries, settled webhook deliveries and sync log lines. */
    RETENTION_CHANGE_FEED_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    RETENTION_WEBHOOK_DELIVERY_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    RETENTION_SYNC_LOG_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  })
  .refine((env) => !(env.ADMIN_EMAIL && !env.ADMIN_PASSWORD), {
    path: ['ADMIN_PASSWORD'],
    message: 'is required when ADMIN_EMAIL is set',
  })
  .superRefine((env, context) => {
    for (const crm of ['SALESFORCE', 'HUBSPOT', 'PIPEDRIVE'] as const) {
      const id = env[`${crm}_CLIENT_ID`];
      const secret = env[`${crm}_CLIENT_SECRET`];
      if (Boolean(id) !== Boolean(secret)) {
        const missing = id ? `${crm}_CLIENT_SECRET` : `${crm}_CLIENT_ID`;
        const present = id ? `${crm}_CLIENT_ID` : `${crm}_CLIENT_SECRET`;
        context.addIssue({ code: 'custom', path: [missing], message: `is required when ${present} is set` });
      }
    }
  });

export type EnvConfig = z.infer<typeof envSchema>;

/** A configuration problem, said in one line that names the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function parseEnv(env: Record<string, string | undefined>): EnvConfig {
  const result = envSchema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const variable = issue.path.join('.') || 'environment';
  const value = env[variable];
  const shown = value === undefined ? 'unset' : JSON.stringify(isSecret(variable) ? '***' : value);
  throw new ConfigError(`Invalid configuration: ${variable}: ${issue.message} (got ${shown})`);
}

function isSecret(variable: string): boolean {
  return /KEY|SECRET|PASSWORD|TOKEN/.test(variable);
}
