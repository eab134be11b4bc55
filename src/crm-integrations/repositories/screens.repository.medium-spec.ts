import { MikroORM } from '@mikro-orm/postgresql';
import { createOrmConfig, CrmConnection, SyncLogEntry, Tenant, type SyncLogAction } from '@pm/domain';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { ScreensRepository } from './screens.repository';

describe("ScreensRepository: the screens' counts, log filters and CRM switches on PostgreSQL", () => {
  let database: TestDatabase;
  let orm: MikroORM;
  let screens: ScreensRepository;
  let acmeId: string;
  let betaId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await MikroORM.init(createOrmConfig({ clientUrl: database.url, poolMax: 2 }));
    await orm.getMigrator().up();
    screens = new ScreensRepository(orm);
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

  it("counts a tenant's lines since a time, by action, and never another tenant's", async () => {
    const since = new Date('2026-12-06T00:00:00Z');
    expect(await screens.countSince({ tenantId: 'acme' }, since, ['created', 'updated'])).toBe(2);
    expect(await screens.countSince({ tenantId: 'acme' }, since, ['error'])).toBe(1);
    expect(await screens.countSince({ tenantId: null }, since, ['created'])).toBe(2);
    expect(await screens.countSince({ tenantId: 'acme', connectionId: betaId }, since, ['created'])).toBe(0);
  });

  it('filters the log by direction, errors only and dates, newest first, a page at a time', async () => {
    const messages = async (filter: Parameters<ScreensRepository['listLog']>[0], offset = 0, limit = 10) => {
      const { rows, total } = await screens.listLog(filter, { offset, limit });
      return { messages: rows.map((row) => row.message), total };
    };
    expect(await messages({ tenantId: 'acme', direction: 'from_crm' })).toEqual({
      messages: ['error at 2026-12-06T10:00:00Z', 'updated at 2026-12-06T09:00:00Z'],
      total: 2,
    });
    expect((await messages({ tenantId: 'acme', errorsOnly: true })).messages).toEqual([
      'error at 2026-12-06T10:00:00Z',
    ]);
    expect(
      await messages({
        tenantId: 'acme',
        from: new Date('2026-12-06T00:00:00Z'),
        to: new Date('2026-12-06T09:30:00Z'),
      }),
    ).toEqual({ messages: ['updated at 2026-12-06T09:00:00Z', 'created at 2026-12-06T08:00:00Z'], total: 2 });
    expect(await messages({ tenantId: 'acme' }, 1, 2)).toEqual({
      messages: ['updated at 2026-12-06T09:00:00Z', 'created at 2026-12-06T08:00:00Z'],
      total: 4,
    });
    expect((await messages({ tenantId: 'acme', connectionId: betaId })).total).toBe(0);
    expect((await messages({ tenantId: null, connectionId: betaId })).total).toBe(1);
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
