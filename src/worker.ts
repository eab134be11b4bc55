import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { SyncWorkersModule } from './crm-integrations/sync';
import { SalesforceStreamModule } from './crm-integrations/realtime/salesforce-stream';
import { ConfigError } from './standalone/config/env.schema';
import { prepareRuntime } from './standalone/runtime';
import { StandaloneModule } from './standalone/standalone.module';

/**
 * `npm run worker`: contact sync workers and the scheduler tick, no HTTP. Start as many as you like, on as many
 * machines as share the database; pg-boss hands each job to one of them and the per-connection lock keeps one run
 * of a connection at a time. Without DATABASE_URL it joins the embedded database a local `npm start` is running
 * (same DATA_DIR), or starts that embedded database itself.
 */
async function startWorker(): Promise<void> {
  const runtime = await prepareRuntime(process.env);
  // This process runs the workers whatever RUN_WORKERS says; that flag tells `npm start` whether to add them too.
  const workerRuntime = { ...runtime, env: { ...runtime.env, RUN_WORKERS: false } };
  const app = await NestFactory.createApplicationContext(
    // The Salesforce change streams idle until a ChangeHintSink is bound (the real-time hint queue).
    StandaloneModule.forRoot(workerRuntime, [SyncWorkersModule.forRoot(), SalesforceStreamModule.forRoot()]),
    { bufferLogs: true },
  );
  app.useLogger(app.get(Logger));
  await app.init();
  console.log(`PenguinMails CRM Integrations worker running (pid ${process.pid})`);
  const stop = async () => {
    await app.close();
    await runtime.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

startWorker().catch((error: unknown) => {
  if (error instanceof ConfigError || (error instanceof Error && error.name === 'EncryptionKeyError'))
    console.error(error.message);
  else console.error(error);
  process.exit(1);
});
