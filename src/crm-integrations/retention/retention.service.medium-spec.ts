import { MikroORM } from '@mikro-orm/postgresql';
import {
  ContactChange,
  createOrmConfig,
  CrmConnection,
  DEFAULT_CONNECTION_SETTINGS,
  SyncLogEntry,
  Tenant,
  WebhookDelivery,
  WebhookEndpoint,
} from '@pm/domain';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import type { CrmIntegrationsOptions } from '../crm-integrations.options';
import { RetentionRepository } from '../repositories';
import { RetentionService } from './retention.service';

const NOW = new Date('2026-12-07T12:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);

/** The retention pass on PostgreSQL: what it deletes, what it must keep, and the feed mark a reader checks. */
describe('RetentionService on PostgreSQL', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  let retention: RetentionRepository;
  let service: RetentionService;

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await MikroORM.init(createOrmConfig({ clientUrl: database.url, poolMax: 2 }));
    await orm.getMigrator().up();
    retention = new RetentionRepository(orm);
    const options = { retention: { changeFeedDays: 30, syncLogDays: 90 } } as CrmIntegrationsOptions;
    service = new RetentionService(retention, options, true);
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  it('deletes old feed entries, settled deliveries and log lines, keeps the rest, and marks each tenant’s feed', async () => {
    const em = orm.em.fork();
    const acme = em.create(Tenant, { id: 'acme', name: 'Acme' });
    const globex = em.create(Tenant, { id: 'globex', name: 'Globex' });
    const connection = em.create(CrmConnection, {
      tenant: acme,
      provider: 'hubspot',
      status: 'connected',
      settings: { ...DEFAULT_CONNECTION_SETTINGS, objects: ['contacts'] },
    });
    const change = (tenant: Tenant, occurredAt: Date) =>
      em.create(ContactChange, {
        tenant,
        contactId: '6d7e5b0c-1f1f-4a4a-8b8b-123456789012',
        kind: 'updated',
        email: 'a@example.com',
        fields: ['firstName'],
        values: { firstName: 'Ada' },
        occurredAt,
      });
    const acmeOld = [change(acme, daysAgo(40)), change(acme, daysAgo(35))];
    const acmeNew = change(acme, daysAgo(2));
    await em.flush();
    // Globex's webhook endpoint has made deliveries of its first old entry only: the second must wait for it.
    const globexOld = [change(globex, daysAgo(45)), change(globex, daysAgo(44))];
    await em.flush();
    em.create(WebhookEndpoint, {
      tenant: globex,
      url: 'https://backend.example/hooks',
      secret: { keyId: 'k', sealed: 'x' },
      feedPosition: globexOld[0].id,
    });
    const delivery = (status: WebhookDelivery['status'], createdAt: Date) =>
      em.create(WebhookDelivery, {
        tenant: globex,
        body: '{}',
        firstChangeId: '1',
        lastChangeId: '1',
        status,
        createdAt,
      });
    const deliveries = [
      delivery('delivered', daysAgo(40)),
      delivery('failed', daysAgo(40)),
      delivery('pending', daysAgo(40)),
      delivery('delivered', daysAgo(3)),
    ];
    const line = (at: Date) =>
      em.create(SyncLogEntry, {
        tenant: acme,
        connection,
        direction: 'to_crm',
        object: 'contacts',
        action: 'updated',
        message: 'Contact synced',
        at,
      });
    const lines = [line(daysAgo(100)), line(daysAgo(10))];
    await em.flush();

    expect(await service.tick(NOW)).toEqual({ changeFeed: 3, webhookDeliveries: 2, syncLog: 1 });

    const check = orm.em.fork();
    const keptChanges = (await check.find(ContactChange, {}, { orderBy: { id: 'asc' } })).map((row) =>
      String(row.id),
    );
    expect(keptChanges).toEqual([String(acmeNew.id), String(globexOld[1].id)]);
    const keptDeliveries = await check.find(WebhookDelivery, {});
    expect(keptDeliveries.map((row) => row.id).sort()).toEqual([deliveries[2].id, deliveries[3].id].sort());
    expect((await check.find(SyncLogEntry, {})).map((row) => row.id)).toEqual([lines[1].id]);
    expect(await retention.feedDeletedThrough('acme')).toBe(String(acmeOld[1].id));
    expect(await retention.feedDeletedThrough('globex')).toBe(String(globexOld[0].id));

    // A second pass finds nothing more, and the marks stay where they were.
    expect(await service.tick(NOW)).toEqual({ changeFeed: 0, webhookDeliveries: 0, syncLog: 0 });
    expect(await retention.feedDeletedThrough('acme')).toBe(String(acmeOld[1].id));
  });
});
