import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Controller, Get, Module, type DynamicModule } from '@nestjs/common';
import type { MikroORM } from '@mikro-orm/core';
import { esmImport } from '../../src/common/esm-import';
import { CRM_ORM, CrmIntegrationsModule } from '../../src/crm-integrations';
import {
  createCrmAdminContribution,
  loadAdminJs,
  useOneShotComponentBundling,
} from '../../src/crm-integrations/admin';

/**
 * A minimal host: an existing Nest + AdminJS back office (like the PenguinMails backend) that imports the CRM
 * plugin's module and spreads the plugin's AdminJS contribution into its own AdminJS, at its own path, beside a
 * page of its own, behind its own login.
 */
export const HOST_ROOT_PATH = '/backoffice';
export const HOST_ADMIN = { email: 'owner@host.example', password: 'host-owner-password' };
export const HOST_SERVICE_TOKEN = `host-platform-token-${randomBytes(16).toString('hex')}`;

@Controller('host')
class HostStatusController {
  @Get('status')
  status(): { host: string } {
    return { host: 'up' };
  }
}

@Module({ controllers: [HostStatusController] })
export class HostAppModule {
  static forRoot(config: { databaseUrl: string; admin: DynamicModule }): DynamicModule {
    return {
      module: HostAppModule,
      imports: [
        CrmIntegrationsModule.forRoot({
          database: { clientUrl: config.databaseUrl },
          encryption: { current: { id: 'host-key', key: randomBytes(32) } },
          publicUrl: 'http://127.0.0.1',
          platformServiceToken: HOST_SERVICE_TOKEN,
        }),
        config.admin,
      ],
    };
  }
}

interface AdminJsNestModule {
  AdminModule: {
    createAdminAsync(options: {
      inject: unknown[];
      useFactory: (orm: MikroORM) => Promise<object>;
    }): DynamicModule;
  };
}

/** The host's own AdminJS module: its root path, its login, its page, and the plugin's resources spread in. */
export async function hostAdminModule(): Promise<DynamicModule> {
  const { adminjs } = await loadAdminJs();
  const { AdminModule } = await esmImport<AdminJsNestModule>('@adminjs/nestjs');
  await useOneShotComponentBundling();
  const componentLoader = new adminjs.ComponentLoader();
  const hostWelcome = componentLoader.add('HostWelcome', join(__dirname, 'components', 'host-welcome'));
  return AdminModule.createAdminAsync({
    inject: [CRM_ORM],
    useFactory: async (orm: MikroORM) => {
      const crm = await createCrmAdminContribution({ orm, componentLoader });
      return {
        adminJsOptions: {
          rootPath: HOST_ROOT_PATH,
          // AdminJS defaults these to /admin/… whatever the root path is.
          loginPath: `${HOST_ROOT_PATH}/login`,
          logoutPath: `${HOST_ROOT_PATH}/logout`,
          componentLoader,
          resources: [...crm.resources],
          pages: { ...crm.pages, hostWelcome: { component: hostWelcome, icon: 'Home' } },
          locale: crm.locale,
          branding: { companyName: 'Host back office', withMadeWithLove: false },
        },
        auth: {
          // The host's own admins (no CRM role): the plugin treats them as superadmins by default.
          authenticate: async (email: string, password: string) =>
            email === HOST_ADMIN.email && password === HOST_ADMIN.password
              ? { email, title: 'Host owner' }
              : null,
          cookieName: 'host_backoffice',
          cookiePassword: randomBytes(32).toString('hex'),
        },
        sessionOptions: { resave: false, saveUninitialized: false },
      };
    },
  });
}
