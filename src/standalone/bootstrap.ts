import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { setupCrmHttp, type CrmIntegrationsOptions } from '../crm-integrations';
import { SyncWorkersModule } from '../crm-integrations/sync';
import { SalesforceStreamModule } from '../crm-integrations/realtime/salesforce-stream';
import type { Express } from 'express';
import { serveAdminWithoutExternalFonts } from './admin/admin-offline';
import { ADMIN_ROOT_PATH, loadStandaloneAdmin, type StandaloneAdmin } from './admin/standalone-admin';
import { prepareRuntime, type StandaloneRuntime } from './runtime';
import { StandaloneModule } from './standalone.module';

export interface StartedService {
  app: NestExpressApplication;
  runtime: StandaloneRuntime;
  url: string;
  stop(): Promise<void>;
}

/**
 * Builds the standalone app on a prepared runtime (used by main.ts and by the end-to-end tests). AdminJS is
 * mounted at /admin unless `options.admin` is false; its ESM modules load before Nest builds the module tree.
 */
export async function createStandaloneApp(
  runtime: StandaloneRuntime,
  overrides: Partial<CrmIntegrationsOptions> = {},
  options: { admin?: StandaloneAdmin | false } = {},
): Promise<NestExpressApplication> {
  const admin = options.admin ?? (await loadStandaloneAdmin(runtime));
  const app = await NestFactory.create<NestExpressApplication>(
    StandaloneModule.forRoot(
      runtime,
      [
        ...(admin ? [admin.module] : []),
        // `npm start` runs API and sync workers in one process; RUN_WORKERS=false leaves them to `npm run worker`.
        ...(runtime.env.RUN_WORKERS ? [SyncWorkersModule.forRoot(), SalesforceStreamModule.forRoot()] : []),
      ],
      overrides,
    ),
    {
      bufferLogs: true,
      // Throw instead of exiting, so the caller can stop what it started (the embedded database) first.
      abortOnError: false,
    },
  );
  app.useLogger(app.get(Logger));
  if (admin) {
    // AdminJS pages without their external font link, and the service's root leading a person to the admin.
    const express = app.getHttpAdapter().getInstance() as Express;
    serveAdminWithoutExternalFonts(express, ADMIN_ROOT_PATH);
    express.get('/', (_req, res) => res.redirect(ADMIN_ROOT_PATH));
  }
  setupCrmHttp(app);
  return app;
}

export async function bootstrapStandalone(
  env: Record<string, string | undefined> = process.env,
): Promise<StartedService> {
  const runtime = await prepareRuntime(env);
  let app: NestExpressApplication;
  let admin: StandaloneAdmin;
  try {
    admin = await loadStandaloneAdmin(runtime);
    app = await createStandaloneApp(runtime, {}, { admin });
    await app.listen(runtime.env.PORT, runtime.env.HOST);
  } catch (error) {
    // A service that cannot start leaves no embedded PostgreSQL or demo CRM running behind it.
    await runtime.stop().catch(() => undefined);
    throw error;
  }
  const url = `http://localhost:${runtime.env.PORT}`;
  const database = runtime.embeddedDatabase
    ? `embedded PostgreSQL in ${runtime.dataDir}/postgres (port ${runtime.embeddedDatabase.port})`
    : 'DATABASE_URL';
  // Plain lines on stdout so a person sees where to go, whatever the log level; blank lines set them apart from
  // the log lines around them.
  console.log(
    [
      '',
      `PenguinMails CRM Integrations listening on ${url}`,
      `  API docs: ${url}/api/docs    health: ${url}/health    database: ${database}`,
      admin.describeLogin(url),
      ...runtime.crmClients.demoLines,
      '',
    ].join('\n'),
  );
  const stop = async () => {
    await app.close();
    await runtime.stop();
  };
  process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
  process.once('SIGINT', () => void stop().then(() => process.exit(0)));
  return { app, runtime, url, stop };
}
