import 'reflect-metadata';
import { MikroORM } from '@mikro-orm/postgresql';
import { createOrmConfig } from '@pm/domain';
import { CrmError, type IntegrationPort } from '@pm/integration-port';
import { ContactSyncRunner, type SyncConnection } from '@pm/sync-engine';
// Only the mapping (not the whole testing barrel): the child transpiles what it loads, on a busy machine too.
import { IN_MEMORY_CONTACTS_MAPPING } from '@pm/sync-engine/testing/builders';
import { AuditService } from '../../audit/audit.service';
import { ContactService } from '../../contacts/contact.service';
import {
  AuditLogRepository,
  ContactChangeRepository,
  ContactRepository,
  TenantRepository,
} from '../../repositories';
import { TenantService } from '../../tenants/tenant.service';
import {
  RecordLinkRepository,
  SyncCursorRepository,
  SyncLogRepository,
  SyncRetryRepository,
} from '../../repositories';
import { LocalContactStoreAdapter } from '../local-contact-store';

/**
 * A sync worker as its own process, for the crash test: it runs one sync of a connection against the parent
 * process's CRM, reached over IPC (the CRM must outlive the worker the test kills), and exits 0 when done.
 */
type Reply = {
  id: number;
  result?: unknown;
  error?: { code: string; message: string; retryAfterMs?: number };
};

let nextId = 0;
const pending = new Map<number, (reply: Reply) => void>();
process.on('message', (reply: Reply) => pending.get(reply.id)?.(reply));

function remote(method: string, args: unknown[]): Promise<unknown> {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    pending.set(id, (reply) => {
      pending.delete(id);
      if (!reply.error) resolve(reply.result);
      else reject(new CrmError(reply.error.code as CrmError['code'], reply.error.message, reply.error));
    });
    process.send?.({ id, method, args });
  });
}

async function main(): Promise<void> {
  const connection = JSON.parse(process.env.SYNC_CONNECTION as string) as SyncConnection;
  const capabilities = JSON.parse(process.env.SYNC_CAPABILITIES as string) as ReturnType<
    IntegrationPort['capabilities']
  >;
  const port = {
    provider: connection.provider,
    capabilities: () => capabilities,
    readChanges: (...args: unknown[]) => remote('readChanges', args),
    upsertBatch: (...args: unknown[]) => remote('upsertBatch', args),
    findByEmail: (...args: unknown[]) => remote('findByEmail', args),
  } as unknown as IntegrationPort;
  const orm = await MikroORM.init(
    createOrmConfig({ clientUrl: process.env.SYNC_DATABASE_URL as string, poolMax: 4 }),
  );
  const contacts = new ContactService(
    new ContactRepository(orm),
    new TenantService(new TenantRepository(orm), new AuditService(new AuditLogRepository(orm))),
    new ContactChangeRepository(orm),
  );
  const session = { connectionId: connection.id, accessToken: process.env.SYNC_ACCESS_TOKEN as string };
  const outcome = await new ContactSyncRunner({
    port,
    sessions: { getSession: async () => session, refreshSession: async () => session },
    links: new RecordLinkRepository(orm),
    cursors: new SyncCursorRepository(orm),
    retries: new SyncRetryRepository(orm),
    log: new SyncLogRepository(orm),
    locals: new LocalContactStoreAdapter(contacts, new ContactRepository(orm)),
    mappings: {
      mappingFor: (_provider, object) => (object === 'contacts' ? IN_MEMORY_CONTACTS_MAPPING : undefined),
    },
    options: { readPageSize: 5, localPageSize: 10 },
  }).run({ connection, runId: process.env.SYNC_RUN_ID as string });
  await orm.close(true);
  process.send?.({ done: outcome.status });
  process.exit(outcome.status === 'succeeded' ? 0 : 1);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(2);
});
