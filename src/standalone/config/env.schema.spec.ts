import { ConfigError, parseEnv } from './env.schema';

describe('environment configuration', () => {
  it('applies the documented defaults', () => {
    const env = parseEnv({});
    expect(env).toMatchObject({ PORT: 3000, DATA_DIR: './.data', LOG_LEVEL: 'info', RUN_WORKERS: true });
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it.each([
    [{ PORT: 'abc' }, /^Invalid configuration: PORT: .* \(got "abc"\)$/],
    [{ PORT: '70000' }, /^Invalid configuration: PORT: /],
    [
      { DATABASE_URL: 'mysql://x' },
      /^Invalid configuration: DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/,
    ],
    [
      { TOKEN_ENCRYPTION_KEY: 'c2hvcnQ=' },
      /^Invalid configuration: TOKEN_ENCRYPTION_KEY: must be base64 of exactly 32 bytes \(got "\*\*\*"\)$/,
    ],
    [
      { ADMIN_EMAIL: 'admin@example.com' },
      /^Invalid configuration: ADMIN_PASSWORD: is required when ADMIN_EMAIL is set \(got unset\)$/,
    ],
    [
      { ADMIN_EMAIL: 'not-an-email', ADMIN_PASSWORD: 'long enough password' },
      /^Invalid configuration: ADMIN_EMAIL: /,
    ],
    [{ EMBEDDED_DB_PORT: '5432' }, /^Invalid configuration: EMBEDDED_DB_PORT: must not be 5432/],
    [{ LOG_LEVEL: 'loud' }, /^Invalid configuration: LOG_LEVEL: /],
    [
      { HUBSPOT_CLIENT_ID: 'abc' },
      /^Invalid configuration: HUBSPOT_CLIENT_SECRET: is required when HUBSPOT_CLIENT_ID is set/,
    ],
    [{ SALESFORCE_LOGIN_URL: 'login.salesforce' }, /^Invalid configuration: SALESFORCE_LOGIN_URL: /],
    [{ DEMO_SANDBOXES: 'maybe' }, /^Invalid configuration: DEMO_SANDBOXES: /],
  ])('refuses %j with one line naming the variable', (env, message) => {
    let error: unknown;
    try {
      parseEnv(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('never echoes a secret value back', () => {
    expect(() => parseEnv({ SERVICE_TOKEN: 'short-secret' })).toThrow('(got "***")');
  });
});
