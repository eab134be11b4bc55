import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { Contact, SyncRun } from '@pm/domain';
import { CrmError } from '@pm/integration-port';
import { InMemoryConnector, InMemoryCrm, IN_MEMORY_PROVIDER } from '@pm/integration-port/testing';
import { decodeCrmRecord, type StandardContactField } from '@pm/sync-engine';
import { IN_MEMORY_CONTACTS_MAPPING, inMemorySessions } from '@pm/sync-engine/testing';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { ContactService } from '../contacts/contact.service';
import { CRM_ORM } from '../database/crm-database';
import { toSyncConnection } from './sync-executor';
import { inRequest, seedConnection, startSyncTestApp } from './testing/sync-test-app';

type Request = { id: number; method: 'readChanges' | 'upsertBatch' | 'findByEmail'; args: unknown[] };

const FIELDS = IN_MEMORY_CONTACTS_MAPPING.fields.map((entry) => entry.local as StandardContactField);

/**
 * Another call's answer may go out just as the worker is killed (it is still `connected` for a moment): the send
 * then fails with EPIPE, which is the crash under test, not a fault of the test.
 */
const ignoreSendToKilledChild = (): void => undefined;

describe('a sync worker process killed mid-run', () => {
  let database: TestDatabase;
  let app: INestApplication;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await startSyncTestApp({
      databaseUrl: database.url,
      connectors: {},
      sessions: {
        getSession: () => Promise.reject(new Error('unused')),
        refreshSession: () => Promise.reject(new Error('unused')),
      },
    });
  });

  afterAll(async () => {
    await app.close();
    await database.drop();
  });

  it('with SIGKILL right after the CRM applied a write, and restarted: no duplicate, no lost update', async () => {
    const orm = app.get<MikroORM>(CRM_ORM);
    const crm = new InMemoryCrm();
    const connector = new InMemoryConnector(crm, { maxWriteBatch: 5 });
    const session = await inMemorySessions(crm, connector).getSession('crash');
    const entity = await seedConnection(app, { tenantId: 'crash', provider: IN_MEMORY_PROVIDER });
    const connection = toSyncConnection(entity);
    for (let i = 0; i < 30; i++)
      crm.createRecord('contacts', { email: `in${i}@example.com`, firstname: `In${i}` });
    const contacts = app.get(ContactService);
    const upsertLocal = (email: string, values: Record<string, string>) =>
      inRequest(app, () => contacts.upsert({ actor: 'test', tenantId: null }, 'crash', { email, ...values }));
    for (let i = 0; i < 30; i++) await upsertLocal(`out${i}@example.com`, { lastName: `Out${i}` });

    /** Runs one sync in a child process; the CRM stays here and answers over IPC. */
    const runWorker = async (killAfterWrites?: number) => {
      const em = orm.em.fork();
      const run = em.create(SyncRun, { tenant: 'crash', connection: connection.id, trigger: 'manual' });
      await em.flush();
      const child = fork(join(__dirname, 'testing/crash-worker.child.ts'), [], {
        execArgv: ['-r', join(__dirname, 'testing/ts-register.cjs')],
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          SYNC_DATABASE_URL: database.url,
          SYNC_CONNECTION: JSON.stringify(connection),
          SYNC_CAPABILITIES: JSON.stringify(connector.capabilities()),
          SYNC_ACCESS_TOKEN: session.accessToken,
          SYNC_RUN_ID: run.id,
        },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      let writes = 0;
      child.on('message', (message: Request | { done: string }) => {
        if ('done' in message) return;
        const call = connector[message.method] as (...args: unknown[]) => Promise<unknown>;
        call.apply(connector, message.args).then(
          (result) => {
            if (message.method === 'upsertBatch' && ++writes === killAfterWrites) {
              // The CRM has applied the batch; the worker dies before it hears back.
              child.kill('SIGKILL');
              return;
            }
            if (child.connected) child.send({ id: message.id, result }, ignoreSendToKilledChild);
          },
          (error: unknown) => {
            const crmError = error instanceof CrmError ? error : undefined;
            if (child.connected) {
              child.send(
                {
                  id: message.id,
                  error: {
                    code: crmError?.code ?? 'UNKNOWN',
                    message: error instanceof Error ? error.message : String(error),
                    retryAfterMs: crmError?.retryAfterMs,
                  },
                },
                ignoreSendToKilledChild,
              );
            }
          },
        );
      });
      return new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.on('exit', (code, signal) => resolve({ code, signal })),
      );
    };

    const killed = await runWorker(3);
    expect(killed.signal).toBe('SIGKILL');
    const crmAfterKill = crm.listRecords('contacts').length;
    expect(crmAfterKill).toBeGreaterThan(30);
    expect(crmAfterKill).toBeLessThan(60);

    // While no worker runs, people keep editing both sides.
    const in4 = crm.recordsByEmail('contacts', ['in4@example.com'])[0];
    crm.updateRecord('contacts', in4.id, { phone: '+1 555 0104' });
    await upsertLocal('out25@example.com', { firstName: 'Twenty-five' });
    await upsertLocal('out2@example.com', { firstName: 'Two' });

    const restarted = await runWorker();
    expect(restarted).toEqual({ code: 0, signal: null });

    const local = Object.fromEntries(
      (await orm.em.fork().find(Contact, { tenant: 'crash' })).map((contact) => [
        contact.email,
        Object.fromEntries(FIELDS.map((field) => [field, contact[field] ?? null])),
      ]),
    );
    const records = crm.listRecords('contacts');
    const remote = Object.fromEntries(
      records.map((record) => {
        const values = decodeCrmRecord(IN_MEMORY_CONTACTS_MAPPING, record.fields);
        return [values.email, Object.fromEntries(FIELDS.map((field) => [field, values[field] ?? null]))];
      }),
    );
    expect(records).toHaveLength(60);
    expect(Object.keys(remote)).toHaveLength(60);
    expect(local).toEqual(remote);
    expect(local['in4@example.com'].phone).toBe('+1 555 0104');
    expect(remote['out25@example.com'].firstName).toBe('Twenty-five');
    expect(remote['out2@example.com']).toMatchObject({ firstName: 'Two', lastName: 'Out2' });
    // Two worker processes, each transpiling the service's TypeScript as it loads: 40 s alone on a busy machine, 70 s
    // beside a full suite.
  }, 180_000);
});
