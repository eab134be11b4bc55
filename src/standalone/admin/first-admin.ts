import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import { AdminUser, hashPassword, normaliseEmail, verifyPassword } from '@pm/domain';

export const GENERATED_ADMIN_EMAIL = 'admin@penguinmails.local';

export function initialAdminPasswordFile(dataDir: string): string {
  return join(dataDir, 'secrets', 'initial-admin-password');
}

/** How a person logs in, as found on start (printed by the bootstrap). */
export type FirstAdminLogin =
  | { kind: 'configured'; email: string; created: boolean }
  | { kind: 'generated'; email: string; password: string; passwordFile: string; created: boolean }
  | { kind: 'existing' };

/**
 * Makes sure someone can log in to AdminJS on start:
 * - ADMIN_EMAIL/ADMIN_PASSWORD set and no admin with that e-mail: that superadmin is created (an existing one is
 *   left alone, so changing the password in AdminJS sticks across restarts);
 * - nothing configured and no admin at all: `admin@penguinmails.local` with a random password, written to
 *   DATA_DIR/secrets/initial-admin-password (0600) and reported while that file still opens the account.
 */
export async function ensureFirstAdmin(
  orm: MikroORM,
  config: { dataDir: string; adminEmail?: string; adminPassword?: string },
): Promise<FirstAdminLogin> {
  const em = orm.em.fork();
  if (config.adminEmail && config.adminPassword) {
    const email = normaliseEmail(config.adminEmail);
    const existing = await em.findOne(AdminUser, { email });
    if (!existing) {
      em.create(AdminUser, {
        email,
        passwordHash: await hashPassword(config.adminPassword),
        role: 'superadmin',
      });
      await em.flush();
    }
    return { kind: 'configured', email, created: !existing };
  }

  const passwordFile = initialAdminPasswordFile(config.dataDir);
  if ((await em.count(AdminUser, {})) === 0) {
    const password = randomBytes(12).toString('base64url');
    mkdirSync(join(config.dataDir, 'secrets'), { recursive: true, mode: 0o700 });
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    chmodSync(passwordFile, 0o600);
    em.create(AdminUser, {
      email: GENERATED_ADMIN_EMAIL,
      passwordHash: await hashPassword(password),
      role: 'superadmin',
    });
    await em.flush();
    return { kind: 'generated', email: GENERATED_ADMIN_EMAIL, password, passwordFile, created: true };
  }

  if (existsSync(passwordFile)) {
    const password = readFileSync(passwordFile, 'utf8').trim();
    const generated = await em.findOne(
      AdminUser,
      { email: GENERATED_ADMIN_EMAIL },
      { populate: ['passwordHash'] },
    );
    if (generated && (await verifyPassword(password, generated.passwordHash))) {
      return { kind: 'generated', email: GENERATED_ADMIN_EMAIL, password, passwordFile, created: false };
    }
    // The password was changed (or the account removed): the file no longer opens anything, so it goes.
    rmSync(passwordFile, { force: true });
  }
  return { kind: 'existing' };
}

/** The line `npm start` prints about AdminJS. */
export function describeAdminLogin(adminUrl: string, login: FirstAdminLogin): string {
  switch (login.kind) {
    case 'configured':
      return `AdminJS: ${adminUrl} — log in as ${login.email} with the password in ADMIN_PASSWORD`;
    case 'generated':
      return (
        `AdminJS: ${adminUrl} — log in as ${login.email} with password ${login.password} ` +
        `(stored in ${login.passwordFile}; change it in AdminJS, then this file is removed)`
      );
    default:
      return (
        `AdminJS: ${adminUrl} — log in with an existing admin account ` +
        '(add one: npm run admin:create -- --email you@example.com --password …)'
      );
  }
}
