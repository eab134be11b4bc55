import { MikroORM, RequestContext } from '@mikro-orm/postgresql';
import {
  AuditLogEntry,
  ConnectionCredential,
  Contact,
  createOrmConfig,
  MIGRATIONS,
  CrmConnection,
  ProviderSetting,
  RecordLink,
  SecretBox,
  SyncCursorState,
  SyncLogEntry,
  SyncRun,
  Tenant,
} from '@pm/domain';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';

describe('domain model on a real PostgreSQL', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  const fork = () => orm.em.fork();

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await MikroORM.init(createOrmConfig({ clientUrl: database.url }));
    await orm.getMigrator().up();
  });

  afterAll(async () => {
    await orm.close(true);
    await database.drop();
  });

  it('applies the committed migrations to an empty database, and they match the entities exactly', async () => {
    const executed = await orm.getMigrator().getExecutedMigrations();
    expect(executed.map((m) => m.name)[0]).toBe('Migration20261124000000_initial');
    expect(executed.length).toBe(MIGRATIONS.length);
    // A drift between entities and migrations would show up as pending schema changes.
    const drift = await orm.schema.getUpdateSchemaSQL({ wrap: false });
    expect(drift.trim()).toBe('');
  });

  it('stores a tenant with contacts, normalising e-mails and keeping them unique per tenant only', async () => {
    const em = fork();
    const acme = em.create(Tenant, { id: 'acme', name: 'Acme' });
    const globex = em.create(Tenant, { id: 'globex', name: 'Globex' });
    em.create(Contact, {
      tenant: acme,
      email: '  John.Doe@Example.COM ',
      firstName: 'John',
      customFields: { tier: 'gold' },
    });
    em.create(Contact, { tenant: globex, email: 'john.doe@example.com', firstName: 'Other John' });
    await em.flush();

    const read = await fork().findOneOrFail(Contact, { tenant: 'acme', email: 'john.doe@example.com' });
    expect(read.firstName).toBe('John');
    expect(read.customFields).toEqual({ tier: 'gold' });
    expect(await fork().count(Contact, { email: 'john.doe@example.com' })).toBe(2);

    const duplicate = fork();
    duplicate.create(Contact, {
      tenant: duplicate.getReference(Tenant, 'acme'),
      email: 'JOHN.DOE@example.com',
    });
    await expect(duplicate.flush()).rejects.toThrow(/contacts_tenant_id_email_unique/);
  });

  it('lets one tenant hold several CRM connections with their own settings', async () => {
    const em = fork();
    const tenant = em.getReference(Tenant, 'acme');
    em.create(CrmConnection, {
      tenant,
      provider: 'salesforce',
      settings: {
        objects: ['Contact', 'Lead'],
        direction: 'bidirectional',
        conflictPolicy: 'crm_wins',
        frequency: 'every_15_minutes',
        activityLogging: true,
        propagateDeletes: false,
      },
    });
    em.create(CrmConnection, { tenant, provider: 'hubspot', status: 'connected', crmAccountId: '12345' });
    await em.flush();

    const connections = await fork().find(
      CrmConnection,
      { tenant: 'acme' },
      { orderBy: { provider: 'asc' } },
    );
    expect(connections.map((c) => [c.provider, c.status])).toEqual([
      ['hubspot', 'connected'],
      ['salesforce', 'pending'],
    ]);
    expect(connections[1].settings.objects).toEqual(['Contact', 'Lead']);
    expect(connections[0].settings.conflictPolicy).toBe('crm_wins');
  });

  it('refuses a connection status outside the state machine', async () => {
    const em = fork();
    em.create(CrmConnection, {
      tenant: em.getReference(Tenant, 'acme'),
      provider: 'pipedrive',
      status: 'bogus' as never,
    });
    await expect(em.flush()).rejects.toThrow(/crm_connections_status_check/);
  });

  it('keeps OAuth tokens only in sealed form: the row holds no plaintext and opens only for its connection', async () => {
    const box = new SecretBox({ id: 'k1', key: randomBytes(32) });
    const em = fork();
    const connection = em.create(CrmConnection, {
      tenant: em.getReference(Tenant, 'acme'),
      provider: 'pipedrive',
    });
    const tokens = JSON.stringify({
      accessToken: 'plain-access-token-123',
      refreshToken: 'plain-refresh-456',
    });
    const sealed = box.seal(tokens, connection.id);
    em.create(ConnectionCredential, { connection, keyId: sealed.keyId, sealed: sealed.sealed });
    await em.flush();

    const rows = await orm.em.getConnection().execute('select * from connection_credentials');
    expect(JSON.stringify(rows)).not.toContain('plain-access-token-123');
    expect(JSON.stringify(rows)).not.toContain('plain-refresh-456');
    const stored = await fork().findOneOrFail(
      ConnectionCredential,
      { connection: connection.id },
      { populate: ['sealed'] },
    );
    expect(box.open({ keyId: stored.keyId, sealed: stored.sealed }, connection.id)).toBe(tokens);
    expect(() => box.open({ keyId: stored.keyId, sealed: stored.sealed }, 'another-connection')).toThrow();
  });

  it('records sync state: links with per-field provenance, cursors, runs and log lines', async () => {
    const em = fork();
    const connection = await em.findOneOrFail(CrmConnection, { tenant: 'acme', provider: 'salesforce' });
    const contact = await em.findOneOrFail(Contact, { tenant: 'acme', email: 'john.doe@example.com' });
    em.create(RecordLink, {
      connection,
      localObject: 'contact',
      localId: contact.id,
      crmObject: 'Contact',
      crmId: '003000000000001AAA',
      synced: { company: { value: 'Acme', side: 'crm', at: '2026-11-24T10:00:00.000Z', rule: 'crm_wins' } },
    });
    em.create(SyncCursorState, {
      connection,
      object: 'Contact',
      direction: 'from_crm',
      value: { modifiedAt: '2026-11-24T10:00:00.000Z', lastId: '003000000000001AAA' },
    });
    const run = em.create(SyncRun, {
      tenant: connection.tenant,
      connection,
      trigger: 'manual',
      counts: {
        from_crm: { Contact: { created: 1, updated: 0, skipped: 0, conflicts: 1, errors: 0, deleted: 0 } },
      },
    });
    em.create(SyncLogEntry, {
      tenant: connection.tenant,
      connection,
      run,
      direction: 'from_crm',
      object: 'Contact',
      recordKey: contact.email,
      action: 'conflict_resolved',
      message: 'Conflict resolved: company field',
    });
    await em.flush();

    const link = await fork().findOneOrFail(RecordLink, { crmId: '003000000000001AAA' });
    expect(link.synced.company).toMatchObject({ value: 'Acme', side: 'crm', rule: 'crm_wins' });
    const cursor = await fork().findOneOrFail(SyncCursorState, {
      connection: connection.id,
      object: 'Contact',
    });
    expect(cursor.value).toEqual({ modifiedAt: '2026-11-24T10:00:00.000Z', lastId: '003000000000001AAA' });
    const log = await fork().findOneOrFail(SyncLogEntry, { run: run.id });
    expect(log.message).toBe('Conflict resolved: company field');
    expect((await fork().findOneOrFail(SyncRun, run.id)).counts.from_crm.Contact.conflicts).toBe(1);

    const again = fork();
    again.create(RecordLink, {
      connection: again.getReference(CrmConnection, connection.id),
      localObject: 'contact',
      localId: contact.id,
      crmObject: 'Contact',
      crmId: '003000000000001AAA',
    });
    await expect(again.flush()).rejects.toThrow(/record_links_connection_id_crm_object_crm_id_unique/);
  });

  it('allows one global and one per-tenant switch per CRM', async () => {
    const em = fork();
    em.create(ProviderSetting, { provider: 'pipedrive', enabled: false });
    em.create(ProviderSetting, {
      provider: 'pipedrive',
      tenant: em.getReference(Tenant, 'acme'),
      enabled: true,
    });
    await em.flush();
    const second = fork();
    second.create(ProviderSetting, { provider: 'pipedrive', enabled: true });
    await expect(second.flush()).rejects.toThrow(/provider_settings_provider_tenant_unique/);
  });

  it('keeps the audit log append-only at the database', async () => {
    await RequestContext.create(orm.em, async () => {
      orm.em.create(AuditLogEntry, {
        tenantId: 'acme',
        actor: 'admin:a@example.com',
        action: 'connection.settings.updated',
        targetType: 'crm_connection',
        before: { direction: 'to_crm' },
        after: { direction: 'bidirectional' },
      });
      await orm.em.flush();
    });
    const connection = orm.em.getConnection();
    await expect(connection.execute(`update audit_log_entries set actor = 'someone else'`)).rejects.toThrow(
      /append-only/,
    );
    await expect(connection.execute('delete from audit_log_entries')).rejects.toThrow(/append-only/);
    const [row] = await connection.execute('select actor, after from audit_log_entries');
    expect(row.actor).toBe('admin:a@example.com');
    expect(row.after).toEqual({ direction: 'bidirectional' });
  });
});
