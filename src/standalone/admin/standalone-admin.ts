import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable, Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { MikroORM } from '@mikro-orm/core';
import type { AdminJSOptions, CurrentAdmin, Locale } from 'adminjs';
import type { SessionOptions } from 'express-session';
import { esmImport } from '../../common/esm-import';
import { CRM_ORM, CrmScreensService } from '../../crm-integrations';
import {
  authenticateAdminUser,
  createCrmAdminContribution,
  loadAdminJs,
  useOneShotComponentBundling,
} from '../../crm-integrations/admin';
import {
  adminSecurityMiddleware,
  adminErrorHandler,
  csrfScriptPath,
  mountAroundAdminRouter,
} from '../../crm-integrations/admin/admin-security';
import { LoginThrottle } from '../../crm-integrations/admin/admin-login-throttle';
import type { StandaloneRuntime } from '../runtime';
import { adminSessionStore } from './admin-session-store';
import { describeAdminLogin, ensureFirstAdmin, type FirstAdminLogin } from './first-admin';

export const ADMIN_ROOT_PATH = '/admin';
export const ADMIN_COOKIE_NAME = 'pm_crm_admin';
const BRAND = 'PenguinMails CRM Integrations';

/** Our name where AdminJS says its own: the login pitch and the dashboard's "Welcome on Board!". */
const WELCOME = 'Sign in to connect CRMs, map fields and watch syncs.';
type Translations = Record<string, Record<string, unknown> | undefined>;
function brandedLocale(locale: Locale): Locale {
  const en = (locale.translations?.en ?? {}) as Translations;
  const login = (en.components?.Login ?? {}) as Record<string, unknown>;
  return {
    ...locale,
    translations: {
      ...locale.translations,
      en: {
        ...en,
        components: { ...en.components, Login: { ...login, welcomeHeader: BRAND, welcomeMessage: WELCOME } },
        messages: {
          ...en.messages,
          welcomeOnBoard_title: BRAND,
          welcomeOnBoard_subtitle:
            'Connections, field mappings, sync runs and the audit log are in the menu.',
        },
      },
    },
  };
}

@Module({})
class StandaloneAdminModule {}

/** The part of @adminjs/nestjs we use (its types are out of reach of node10 module resolution). */
interface AdminModuleOptions {
  adminJsOptions: AdminJSOptions;
  auth: {
    authenticate: (email: string, password: string, context?: object) => Promise<CurrentAdmin | null>;
    cookieName: string;
    cookiePassword: string;
    /** @adminjs/express: failed logins allowed per IP and window before the form refuses. */
    maxRetries?: { count: number; duration: number };
  };
  /** express-session options; the secret comes from auth.cookiePassword. */
  sessionOptions: Omit<SessionOptions, 'secret'>;
}
interface AdminJsNestModule {
  AdminModule: {
    createAdminAsync(options: {
      inject: unknown[];
      useFactory: (orm: MikroORM, screens: CrmScreensService) => Promise<AdminModuleOptions>;
    }): DynamicModule;
  };
}

export interface StandaloneAdmin {
  /** Imported by StandaloneModule beside CrmIntegrationsModule. */
  module: DynamicModule;
  /** The line to print once the service listens (the first admin exists by then). */
  describeLogin(baseUrl: string): string;
}

/**
 * AdminJS for the standalone service, mounted at /admin through @adminjs/nestjs with the plugin's contribution and
 * a login against AdminUser. The ESM-only modules are loaded here, before Nest builds the module tree.
 */
export async function loadStandaloneAdmin(runtime: StandaloneRuntime): Promise<StandaloneAdmin> {
  // In production AdminJS serves its component bundle with res.sendFile, which (express 5) refuses any path with
  // a dot folder in it, such as the default ./.adminjs. Bundle into a plain temp folder instead (per DATA_DIR, so
  // two services never share one). Read by AdminJS when it loads, so this must come first.
  if (process.env.NODE_ENV === 'production' && !process.env.ADMIN_JS_TMP_DIR) {
    const id = createHash('sha256').update(runtime.dataDir).digest('hex').slice(0, 12);
    process.env.ADMIN_JS_TMP_DIR = join(tmpdir(), `penguinmails-crm-adminjs-${id}`);
  }
  // Sequential on purpose: Jest's ESM loader fails on parallel imports that share modules.
  const { adminjs } = await loadAdminJs();
  const { AdminModule } = await esmImport<AdminJsNestModule>('@adminjs/nestjs');
  // @adminjs/nestjs imports it only when the router is built; loading it now surfaces a broken install early.
  await esmImport('@adminjs/express');
  await useOneShotComponentBundling();
  let firstAdmin: FirstAdminLogin = { kind: 'existing' };
  const sessions = adminSessionStore(runtime.databaseUrl, runtime.env.DATABASE_SCHEMA);
  const loginThrottle = new LoginThrottle();

  const module = AdminModule.createAdminAsync({
    inject: [CRM_ORM, CrmScreensService],
    useFactory: async (orm: MikroORM, screens: CrmScreensService) => {
      firstAdmin = await ensureFirstAdmin(orm, {
        dataDir: runtime.dataDir,
        adminEmail: runtime.env.ADMIN_EMAIL,
        adminPassword: runtime.env.ADMIN_PASSWORD,
      });
      const crm = await createCrmAdminContribution({
        orm,
        screens,
        componentLoader: new adminjs.ComponentLoader(),
      });
      return {
        adminJsOptions: {
          rootPath: ADMIN_ROOT_PATH,
          loginPath: `${ADMIN_ROOT_PATH}/login`,
          logoutPath: `${ADMIN_ROOT_PATH}/logout`,
          resources: crm.resources,
          pages: crm.pages,
          dashboard: crm.dashboard,
          componentLoader: crm.componentLoader,
          locale: brandedLocale(crm.locale),
          branding: { companyName: BRAND, logo: false, withMadeWithLove: false },
          // Adds the CSRF token to the page's POSTs (admin-security.ts).
          assets: { scripts: [csrfScriptPath(ADMIN_ROOT_PATH)] },
        },
        auth: {
          // Throttled per account and address (admin-login-throttle.ts), not AdminJS's per-address lockout.
          authenticate: loginThrottle.guard((email, password) => authenticateAdminUser(orm, email, password)),
          cookieName: ADMIN_COOKIE_NAME,
          cookiePassword: runtime.sessionSecret,
        },
        // Sessions live in PostgreSQL: a restart keeps everyone logged in.
        sessionOptions: {
          store: sessions.store,
          resave: false,
          saveUninitialized: false,
          // Secure whenever served over https: always with an https PUBLIC_URL, else per request (TLS or a proxy's
          // X-Forwarded-Proto).
          proxy: true,
          cookie: {
            httpOnly: true,
            sameSite: 'lax',
            secure: runtime.publicUrl.startsWith('https://') ? true : 'auto',
          },
        },
      };
    },
  });

  const security = adminSecurityMiddleware({
    rootPath: ADMIN_ROOT_PATH,
    loginPath: `${ADMIN_ROOT_PATH}/login`,
    sessionCookieName: ADMIN_COOKIE_NAME,
    secret: runtime.sessionSecret,
    publicUrl: runtime.publicUrl,
  });
  @Injectable()
  class AdminSecurityMount implements OnApplicationBootstrap {
    constructor(private readonly host: HttpAdapterHost) {}
    onApplicationBootstrap(): void {
      mountAroundAdminRouter(
        this.host.httpAdapter.getInstance(),
        security,
        adminErrorHandler(ADMIN_ROOT_PATH),
      );
    }
  }

  return {
    module: {
      module: StandaloneAdminModule,
      imports: [module, sessions.module],
      providers: [AdminSecurityMount],
    },
    describeLogin: (baseUrl) => describeAdminLogin(`${baseUrl}${ADMIN_ROOT_PATH}`, firstAdmin),
  };
}
