import { MikroORM } from '@mikro-orm/postgresql';
import { createOrmConfig, CrmConnection, SyncLogEntry, Tenant, type SyncLogAction } from '@pm/domain';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { ScreensRepository } from './screens.repository';
import { SyncLogRepository } from './sync-log.repository';

describe("The screens' reads on PostgreSQL: the log across tenants (SyncLogRepository), connections, CRM switches", () => {
  let database: TestDatabase;
  let orm: MikroORM;
  let screens: ScreensRepository;
  let log: SyncLogRepository;
  let acmeId: string;
  let betaId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await MikroORM.init(createOrmConfig({ clientUrl: database.url, poolMax: 2 }));
    await orm.getMigrator().up();
    screens = new ScreensRepository(orm);
    log = new SyncLogRepository(orm);
    const em = orm.em.fork();
    const acme = em.create(Tenant, { id: 'acme', name: 'Acme' });
    const beta = em.create(Tenant, { id: 'beta', name: 'Beta' });
    const acmeConnection = em.create(CrmConnection, {
      tenant: acme,
      provider: 'hubspot',
      status: 'connected',
    });
    const betaConnection = em.create(CrmConnection, {
      tenant: beta,
      provider: 'salesforce',
      status: 'connected',
    });
    const line = (
      connection: CrmConnection,
      at: string,
      action: SyncLogAction,
      direction: 'to_crm' | 'from_crm' | 'none',
    ) =>
      em.create(SyncLogEntry, {
        tenant: connection.tenant,
        connection,
        at: new Date(at),
        direction,
        object: 'contacts',
        action,
        message: `${action} at ${at}`,
      });
    line(acmeConnection, '2026-12-05T23:59:00Z', 'created', 'to_crm');
    line(acmeConnection, '2026-12-06T08:00:00Z', 'created', 'to_crm');
    line(acmeConnection, '2026-12-06T09:00:00Z', 'updated', 'from_crm');
    line(acmeConnection, '2026-12-06T10:00:00Z', 'error', 'from_crm');
    line(betaConnection, '2026-12-06T10:30:00Z', 'created', 'to_crm');
    await em.flush();
    acmeId = acmeConnection.id;
    betaId = betaConnection.id;
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  it("counts a tenant's lines of a day per connection, or every tenant's for a platform admin", async () => {
    const from = new Date('2026-12-06T00:00:00Z');
    const to = new Date('2026-12-07T00:00:00Z');
    expect(await log.countsBetween('acme', from, to)).toEqual([
      {
        connectionId: acmeId,
        contactsIn: 1,
        contactsOut: 1,
        activitiesLogged: 0,
        conflictsResolved: 0,
        errors: 1,
      },
    ]);
    const everyTenant = await log.countsBetween(null, from, to);
    expect(everyTenant.map((row) => [row.connectionId, row.contactsOut]).sort()).toEqual(
      [
        [acmeId, 1],
        [betaId, 1],
      ].sort(),
    );
    expect(await log.countsBetween('acme', from, to, betaId)).toEqual([]);
  });

  it('filters the log by direction, errors only and dates, newest first, across tenants only when asked', async () => {
    const read = async (filter: Partial<Parameters<SyncLogRepository['page']>[0]>) => {
      const full = { tenantId: 'acme', limit: 10, ...filter };
      const rows = await log.page(full);
      return { messages: rows.map((row) => row.message), total: await log.count(full) };
    };
    expect(await read({ direction: 'from_crm' })).toEqual({
      messages: ['error at 2026-12-06T10:00:00Z', 'updated at 2026-12-06T09:00:00Z'],
      total: 2,
    });
    expect((await read({ actions: ['error'] })).messages).toEqual(['error at 2026-12-06T10:00:00Z']);
    expect(
      await read({ from: new Date('2026-12-06T00:00:00Z'), to: new Date('2026-12-06T09:30:00Z') }),
    ).toEqual({ messages: ['updated at 2026-12-06T09:00:00Z', 'created at 2026-12-06T08:00:00Z'], total: 2 });
    expect(await read({ limit: 2 })).toEqual({
      messages: ['error at 2026-12-06T10:00:00Z', 'updated at 2026-12-06T09:00:00Z'],
      total: 4,
    });
    expect((await read({ connectionId: betaId })).total).toBe(0);
    expect(await read({ tenantId: null, connectionId: betaId })).toEqual({
      messages: ['created at 2026-12-06T10:30:00Z'],
      total: 1,
    });
    expect((await read({ tenantId: null })).total).toBe(5);
    expect((await screens.listConnections({ tenantId: 'acme' })).map((c) => c.id)).toEqual([acmeId]);
    expect(await screens.findConnection({ tenantId: 'acme' }, betaId)).toBeNull();
  });

  it('switches a CRM globally and per tenant, answering what the switch was before', async () => {
    expect(await screens.saveProviderSetting('pipedrive', null, false)).toEqual({ before: null });
    expect(await screens.saveProviderSetting('pipedrive', 'beta', true)).toEqual({ before: null });
    expect(await screens.saveProviderSetting('pipedrive', null, true)).toEqual({ before: false });
    const settings = await screens.listProviderSettings();
    expect(settings.map((s) => [s.provider, s.tenant?.id ?? null, s.enabled])).toEqual(
      expect.arrayContaining([
        ['pipedrive', null, true],
        ['pipedrive', 'beta', true],
      ]),
    );
    expect(settings).toHaveLength(2);
  });
});
