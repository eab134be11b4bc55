import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Controller, Get, Module, type DynamicModule } from '@nestjs/common';
import type { MikroORM } from '@mikro-orm/core';
import { esmImport } from '../../src/common/esm-import';
import { AdminUser } from '@pm/domain';
import type { IntegrationPortMap } from '@pm/integration-port';
import { CRM_ORM, CrmIntegrationsModule, CrmScreensService } from '../../src/crm-integrations';
import { SyncWorkersModule } from '../../src/crm-integrations/sync';
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
/** The host's own login for its users that carry a CRM role (a viewer, a tenant admin) in the test. */
export const HOST_MAPPED_PASSWORD = 'host-mapped-password';
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
  static forRoot(config: {
    databaseUrl: string;
    admin: DynamicModule;
    /** Where browsers reach the host (OAuth callbacks come back here). */
    publicUrl?: string;
    /** The CRMs the host offers, each a connector pointed at its CRM (a sandbox in the test). */
    connectors?: IntegrationPortMap;
  }): DynamicModule {
    return {
      module: HostAppModule,
      imports: [
        CrmIntegrationsModule.forRoot({
          database: { clientUrl: config.databaseUrl },
          encryption: { current: { id: 'host-key', key: randomBytes(32) } },
          publicUrl: config.publicUrl ?? 'http://127.0.0.1',
          platformServiceToken: HOST_SERVICE_TOKEN,
          connectors: config.connectors,
        }),
        // The host runs the plugin's sync workers in its own process, as `npm start` does.
        SyncWorkersModule.forRoot({ scheduler: false }),
        config.admin,
      ],
    };
  }
}

interface AdminJsNestModule {
  AdminModule: {
    createAdminAsync(options: {
      inject: unknown[];
      useFactory: (orm: MikroORM, screens: CrmScreensService) => Promise<object>;
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
    inject: [CRM_ORM, CrmScreensService],
    useFactory: async (orm: MikroORM, screens: CrmScreensService) => {
      const crm = await createCrmAdminContribution({ orm, componentLoader, screens });
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
          dashboard: crm.dashboard,
          branding: { companyName: 'Host back office', withMadeWithLove: false },
        },
        auth: {
          // The host's own admins (no CRM role): the plugin treats them as superadmins by default.
          authenticate: async (email: string, password: string) => {
            if (email === HOST_ADMIN.email && password === HOST_ADMIN.password)
              return { email, title: 'Host owner' };
            // Users with a CRM role (the plugin's AdminUser rows): the host maps them onto the plugin's roles.
            if (password !== HOST_MAPPED_PASSWORD) return null;
            const user = await orm.em.fork().findOne(AdminUser, { email });
            return user
              ? { email, title: user.role, role: user.role, tenantId: user.tenant?.id ?? null }
              : null;
          },
          cookieName: 'host_backoffice',
          cookiePassword: randomBytes(32).toString('hex'),
        },
        sessionOptions: { resave: false, saveUninitialized: false },
      };
    },
  });
}
