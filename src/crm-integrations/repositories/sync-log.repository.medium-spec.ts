import { MikroORM } from '@mikro-orm/postgresql';
import { createOrmConfig, CrmConnection, Tenant } from '@pm/domain';
import type { SyncConnection, SyncLogLine } from '@pm/sync-engine';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { SyncLogRepository } from './sync-log.repository';

/** Texts that SQL literals, JSON and the driver's `?` placeholders each treat specially. */
const AWKWARD = [
  "O'Brien",
  'back\\slash and \\\\ two',
  'a "quoted" word',
  'what? and ?? and ?::jsonb',
  'ünïcødé — 日本語 😀',
  'new\nline\ttab',
  '',
];

describe('SyncLogRepository on PostgreSQL', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  let log: SyncLogRepository;
  let connection: SyncConnection;

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await MikroORM.init(createOrmConfig({ clientUrl: database.url, poolMax: 2 }));
    await orm.getMigrator().up();
    log = new SyncLogRepository(orm);
    const em = orm.em.fork();
    const tenant = em.create(Tenant, { id: 'log', name: 'Log' });
    const id = em.create(CrmConnection, { tenant, provider: 'hubspot' }).id;
    await em.flush();
    connection = { id, tenantId: 'log', provider: 'hubspot' } as SyncConnection;
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  it('reads back every line as written, in order, whatever its text and details hold', async () => {
    const lines: SyncLogLine[] = AWKWARD.map((text, i) => ({
      direction: i % 2 ? 'from_crm' : 'to_crm',
      object: 'contacts',
      recordKey: i === 0 ? null : `${text}@example.com`,
      action: 'updated',
      message: text,
      details: i === 1 ? null : { text, n: i, nested: { list: [text, null, true] }, nothing: null },
    })) as SyncLogLine[];
    await log.write(connection, null, lines);

    const read = (await log.listForConnection(connection.id, 100)).reverse();
    expect(
      read.map(({ direction, object, recordKey, action, message, details }) => ({
        direction,
        object,
        recordKey,
        action,
        message,
        details,
      })),
    ).toEqual(lines);
    // A line without details holds SQL NULL, not a JSON null.
    const [{ nulls }] = await orm.em
      .fork()
      .execute<{ nulls: string }[]>(`select count(*) as nulls from sync_log_entries where details is null`);
    expect(Number(nulls)).toBe(1);
    expect(new Set(read.map((entry) => entry.at.getTime())).size).toBe(1);
    expect(read.every((entry) => entry.run === null || entry.run === undefined)).toBe(true);
  });
});
