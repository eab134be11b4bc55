import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/postgresql';
import { AdminUser, createOrmConfig, hashPassword, Tenant } from '@pm/domain';
import { createOrUpdateAdmin, parseAdminArgs } from '../../src/cli/admin-create';
import { authenticateAdminUser } from '../../src/crm-integrations/admin';
import {
  describeAdminLogin,
  ensureFirstAdmin,
  GENERATED_ADMIN_EMAIL,
  initialAdminPasswordFile,
} from '../../src/standalone/admin/first-admin';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('the first AdminJS login', () => {
  let database: TestDatabase;
  let orm: MikroORM;

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await MikroORM.init(createOrmConfig({ clientUrl: database.url }));
    await orm.getMigrator().up();
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  beforeEach(() => orm.em.fork().nativeDelete(AdminUser, {}));

  it('generates admin@penguinmails.local with a password kept in DATA_DIR until it is changed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pmcrm-first-admin-'));
    const first = await ensureFirstAdmin(orm, { dataDir });
    const file = initialAdminPasswordFile(dataDir);
    expect(first).toMatchObject({ kind: 'generated', email: GENERATED_ADMIN_EMAIL, created: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const password = readFileSync(file, 'utf8').trim();
    expect(await authenticateAdminUser(orm, GENERATED_ADMIN_EMAIL, password)).not.toBeNull();
    expect(describeAdminLogin('http://localhost:3000/admin', first)).toBe(
      `AdminJS: http://localhost:3000/admin — log in as ${GENERATED_ADMIN_EMAIL} with password ${password} ` +
        `(stored in ${file}; change it in AdminJS, then this file is removed)`,
    );

    // A restart reports the same login and creates nobody.
    expect(await ensureFirstAdmin(orm, { dataDir })).toMatchObject({
      kind: 'generated',
      password,
      created: false,
    });
    expect(await orm.em.fork().count(AdminUser, {})).toBe(1);

    // Once the password is changed the file opens nothing, so it is removed and no password is printed.
    const em = orm.em.fork();
    const generated = await em.findOneOrFail(AdminUser, { email: GENERATED_ADMIN_EMAIL });
    generated.passwordHash = await hashPassword('a-new-password');
    await em.flush();
    const later = await ensureFirstAdmin(orm, { dataDir });
    expect(later).toEqual({ kind: 'existing' });
    expect(existsSync(file)).toBe(false);
    expect(describeAdminLogin('http://localhost:3000/admin', later)).toContain('npm run admin:create');
  });

  it('creates the configured admin once, and leaves its password alone on later starts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pmcrm-first-admin-'));
    const config = { dataDir, adminEmail: 'Boss@Example.com', adminPassword: 'first-password' };
    expect(await ensureFirstAdmin(orm, config)).toEqual({
      kind: 'configured',
      email: 'boss@example.com',
      created: true,
    });
    expect(existsSync(initialAdminPasswordFile(dataDir))).toBe(false);
    expect(await ensureFirstAdmin(orm, { ...config, adminPassword: 'other-password' })).toMatchObject({
      created: false,
    });
    expect(await authenticateAdminUser(orm, 'boss@example.com', 'first-password')).not.toBeNull();
  });

  describe('npm run admin:create', () => {
    const env = () => ({
      DATABASE_URL: database.url,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'pmcrm-admin-cli-')),
      LOG_LEVEL: 'silent',
    });

    it('refuses bad input with a clear message', () => {
      expect(() => parseAdminArgs(['--email', 'not-an-email', '--password', 'long-enough'])).toThrow(
        '--email must be an e-mail address',
      );
      expect(() => parseAdminArgs(['--email', 'a@b.io', '--password', 'short'])).toThrow(
        'at least 8 characters',
      );
      expect(() =>
        parseAdminArgs(['--email', 'a@b.io', '--password', 'long-enough', '--role', 'tenant_admin']),
      ).toThrow('--tenant is required');
      expect(() => parseAdminArgs(['--email', 'a@b.io', '--bogus'])).toThrow(/bogus/);
    });

    it('creates, then updates, an admin who can log in', async () => {
      const em = orm.em.fork();
      em.create(Tenant, { id: 'acme', name: 'Acme Inc' });
      await em.flush();
      const input = parseAdminArgs([
        '--email',
        'ops@acme.example',
        '--password',
        'first-password',
        '--tenant',
        'acme',
      ]);
      expect(await createOrUpdateAdmin(input, env())).toMatch(
        /^Created admin ops@acme.example \(tenant_admin of acme\)/,
      );
      const again = parseAdminArgs([
        '--email',
        'ops@acme.example',
        '--password',
        'second-password',
        '--tenant',
        'acme',
      ]);
      expect(await createOrUpdateAdmin(again, env())).toMatch(/^Updated admin ops@acme.example/);
      expect(await authenticateAdminUser(orm, 'ops@acme.example', 'second-password')).toMatchObject({
        role: 'tenant_admin',
        tenantId: 'acme',
      });
      const missing = parseAdminArgs([
        '--email',
        'x@nowhere.example',
        '--password',
        'long-enough',
        '--tenant',
        'nope',
      ]);
      await expect(createOrUpdateAdmin(missing, env())).rejects.toThrow('tenant "nope" does not exist');
    });
  });
});
