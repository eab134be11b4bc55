import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { MikroORM } from '@mikro-orm/postgresql';
import {
  AdminUser,
  AuditLogEntry,
  createOrmConfig,
  hashPassword,
  normaliseEmail,
  Tenant,
  type AdminRole,
} from '@pm/domain';
import { ConfigError } from '../standalone/config/env.schema';
import { prepareRuntime } from '../standalone/runtime';

const USAGE =
  'usage: npm run admin:create -- --email <email> --password <password> [--role superadmin|tenant_admin|viewer] [--tenant <tenantId>]';

export class UsageError extends Error {}

interface AdminInput {
  email: string;
  password: string;
  role: AdminRole;
  tenantId: string | null;
}

export function parseAdminArgs(argv: string[]): AdminInput {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        email: { type: 'string' },
        password: { type: 'string' },
        role: { type: 'string' },
        tenant: { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const email = normaliseEmail(parsed.email ?? '');
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new UsageError('--email must be an e-mail address');
  const password = parsed.password ?? '';
  if (password.length < 8) throw new UsageError('--password must be at least 8 characters');
  const tenantId = parsed.tenant?.trim() || null;
  const role = (parsed.role ?? (tenantId ? 'tenant_admin' : 'superadmin')) as AdminRole;
  if (role !== 'superadmin' && role !== 'tenant_admin' && role !== 'viewer')
    throw new UsageError('--role must be superadmin, tenant_admin or viewer');
  if (role === 'tenant_admin' && !tenantId) throw new UsageError('--tenant is required for a tenant_admin');
  if (role === 'superadmin' && tenantId) throw new UsageError('a superadmin has no --tenant');
  return { email, password, role, tenantId };
}

export async function createOrUpdateAdmin(
  input: AdminInput,
  env: Record<string, string | undefined> = process.env,
): Promise<string> {
  // Beside a running `npm start` of the same DATA_DIR this joins its embedded database (see prepareRuntime).
  const runtime = await prepareRuntime(env, { crms: false });
  const schema = runtime.env.DATABASE_SCHEMA;
  const orm = await MikroORM.init(createOrmConfig({ clientUrl: runtime.databaseUrl, schema, poolMax: 2 }));
  try {
    if (schema) await orm.em.getConnection().execute(`create schema if not exists "${schema}"`);
    await orm.getMigrator().up();
    const em = orm.em.fork();
    return await em.transactional(async (tx) => {
      const tenant = input.tenantId ? await tx.findOne(Tenant, { id: input.tenantId }) : null;
      if (input.tenantId && !tenant) throw new UsageError(`tenant "${input.tenantId}" does not exist`);
      const passwordHash = await hashPassword(input.password);
      const existing = await tx.findOne(AdminUser, { email: input.email });
      const admin = existing ?? tx.create(AdminUser, { email: input.email, passwordHash, role: input.role });
      const before = existing ? { role: existing.role, tenant: existing.tenant?.id ?? null } : null;
      admin.passwordHash = passwordHash;
      admin.role = input.role;
      admin.tenant = tenant;
      await tx.flush();
      tx.create(AuditLogEntry, {
        tenantId: input.tenantId,
        actor: 'system:cli',
        action: existing ? 'admin_user.updated' : 'admin_user.created',
        targetType: 'AdminUser',
        targetId: admin.id,
        before,
        after: { email: admin.email, role: admin.role, tenant: input.tenantId, passwordChanged: true },
      });
      const scope = input.role === 'tenant_admin' ? `tenant_admin of ${input.tenantId}` : 'superadmin';
      return `${existing ? 'Updated' : 'Created'} admin ${input.email} (${scope}); log in at /admin with this password`;
    });
  } finally {
    await orm.close(true);
    await runtime.stop();
  }
}

async function main(): Promise<void> {
  try {
    console.log(await createOrUpdateAdmin(parseAdminArgs(process.argv.slice(2))));
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`admin:create: ${error.message}\n${USAGE}`);
      process.exit(2);
    }
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  }
}

if (require.main === module) void main();
