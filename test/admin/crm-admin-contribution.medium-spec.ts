import { MikroORM } from '@mikro-orm/postgresql';
import {
  AdminUser,
  AuditLogEntry,
  createOrmConfig,
  CrmConnection,
  DEFAULT_CONNECTION_SETTINGS,
  ServiceToken,
  SyncRun,
  Tenant,
  verifyPassword,
} from '@pm/domain';
import type AdminJS from 'adminjs';
import type { ActionContext, BaseResource } from 'adminjs';
import {
  authenticateAdminUser,
  createCrmAdminContribution,
  loadAdminJs,
} from '../../src/crm-integrations/admin';
import type { CrmEntityResource } from '../../src/crm-integrations/admin/crm-entity-resource';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/** The contribution's resources driven directly, as AdminJS's actions call them, without a browser. */
describe('the CRM AdminJS contribution', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  let admin: AdminJS;
  let acmeConnectionId: string;
  let ForbiddenError: new () => Error;

  const superadmin = { email: 'root@example.com', role: 'superadmin', tenantId: null };
  const acmeAdmin = { email: 'ops@acme.example', role: 'tenant_admin', tenantId: 'acme' };
  const contextOf = (currentAdmin: object, resource: BaseResource) =>
    ({ currentAdmin, resource, _admin: admin, h: undefined, action: undefined }) as unknown as ActionContext;
  const resource = (id: string) => admin.findResource(id) as unknown as CrmEntityResource;

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await MikroORM.init(createOrmConfig({ clientUrl: database.url }));
    await orm.getMigrator().up();
    const em = orm.em.fork();
    const acme = em.create(Tenant, { id: 'acme', name: 'Acme Inc' });
    const beta = em.create(Tenant, { id: 'beta', name: 'Beta GmbH' });
    const connection = em.create(CrmConnection, { tenant: acme, provider: 'hubspot', label: 'Acme HubSpot' });
    em.create(CrmConnection, { tenant: beta, provider: 'pipedrive', label: 'Beta Pipedrive' });
    em.create(SyncRun, { tenant: acme, connection, trigger: 'manual' });
    em.create(ServiceToken, {
      tenant: acme,
      name: 'acme backend',
      tokenHash: 'sha256-of-a-token',
      prefix: 'pmt_ab',
    });
    await em.flush();
    acmeConnectionId = connection.id;

    const { adminjs } = await loadAdminJs();
    ForbiddenError = adminjs.ForbiddenError;
    const crm = await createCrmAdminContribution({ orm });
    admin = new adminjs.default({ resources: crm.resources, componentLoader: crm.componentLoader });
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  it('offers no resource or property that could show a credential or a secret hash', () => {
    const ids = admin.resources.map((r) => r.id());
    expect(ids).toEqual(expect.arrayContaining(['CrmConnection', 'CrmAdminUser', 'CrmServiceToken']));
    expect(ids.join(' ')).not.toMatch(/credential/i);
    const paths = admin.resources.flatMap((r) => r.properties().map((p) => `${r.id()}.${p.path()}`));
    expect(paths.filter((path) => /credential|passwordHash|tokenHash|sealed/i.test(path))).toEqual([]);
  });

  it('keeps sync history and the audit log read-only', async () => {
    for (const id of [
      'CrmAuditLogEntry',
      'CrmSyncRun',
      'CrmSyncLogEntry',
      'CrmRecordLink',
      'CrmSyncCursor',
    ]) {
      const target = resource(id);
      const context = contextOf(superadmin, target);
      const actions = target.decorate().actions;
      for (const action of ['new', 'edit', 'delete', 'bulkDelete']) {
        expect(await actions[action].isAccessible(superadmin)).toBe(false);
      }
      await expect(target.create({}, context)).rejects.toBeInstanceOf(ForbiddenError);
    }
    const runs = resource('CrmSyncRun');
    const [run] = await runs.find({ filters: {} } as never, {}, contextOf(superadmin, runs));
    await expect(runs.delete(String(run.id()), contextOf(superadmin, runs))).rejects.toBeInstanceOf(
      ForbiddenError,
    );
  });

  it('hashes the password of a new admin, never returns it, and audits the change', async () => {
    const admins = resource('CrmAdminUser');
    const params = await admins.create(
      { email: ' New.Admin@Example.com ', password: 'a-long-password', role: 'superadmin' },
      contextOf(superadmin, admins),
    );
    expect(params).toMatchObject({ email: 'new.admin@example.com', role: 'superadmin' });
    expect(JSON.stringify(params)).not.toMatch(/a-long-password|scrypt/);

    const stored = await orm.em
      .fork()
      .findOneOrFail(AdminUser, { email: 'new.admin@example.com' }, { populate: ['passwordHash'] });
    expect(await verifyPassword('a-long-password', stored.passwordHash)).toBe(true);
    expect(await authenticateAdminUser(orm, 'NEW.admin@example.com', 'a-long-password')).toMatchObject({
      email: 'new.admin@example.com',
      role: 'superadmin',
      tenantId: null,
    });
    expect(await authenticateAdminUser(orm, 'new.admin@example.com', 'wrong-password')).toBeNull();

    const audit = await orm.em.fork().findOneOrFail(AuditLogEntry, { targetId: stored.id });
    expect(audit).toMatchObject({ actor: 'admin:root@example.com', action: 'admin.CrmAdminUser.created' });
    expect(audit.after).toMatchObject({ email: 'new.admin@example.com', passwordChanged: true });
    expect(JSON.stringify(audit.after)).not.toMatch(/a-long-password|scrypt/);

    await expect(
      admins.create({ email: 'short@example.com', password: 'short' }, contextOf(superadmin, admins)),
    ).rejects.toMatchObject({ propertyErrors: { password: expect.anything() } });
  });

  it('never removes or demotes the last superadmin', async () => {
    await orm.em.fork().nativeDelete(AdminUser, { role: 'superadmin' });
    const admins = resource('CrmAdminUser');
    const context = contextOf(superadmin, admins);
    const only = await admins.create({ email: 'only@example.com', password: 'a-long-password' }, context);
    const onlyId = String(only.id);
    const refusal = { baseError: { message: 'The last superadmin cannot be removed or demoted.' } };
    await expect(admins.delete(onlyId, context)).rejects.toMatchObject(refusal);
    await expect(
      admins.update(onlyId, { role: 'tenant_admin', tenant: 'acme' }, context),
    ).rejects.toMatchObject(refusal);
    expect(await orm.em.fork().count(AdminUser, { id: onlyId, role: 'superadmin' })).toBe(1);

    await admins.create({ email: 'second@example.com', password: 'a-long-password' }, context);
    await admins.delete(onlyId, context);
    expect(await orm.em.fork().count(AdminUser, { id: onlyId })).toBe(0);
  });

  it('lets a tenant admin add only tenant admins of its own tenant', async () => {
    const admins = resource('CrmAdminUser');
    const params = await admins.create(
      { email: 'escalate@acme.example', password: 'a-long-password', role: 'superadmin', tenant: 'beta' },
      contextOf(acmeAdmin, admins),
    );
    expect(params).toMatchObject({ role: 'tenant_admin', tenant: 'acme' });
  });

  it('lets a viewer read its tenant and refuses it every change', async () => {
    const viewer = { email: 'look@acme.example', role: 'viewer', tenantId: 'acme' };
    const connections = resource('CrmConnection');
    const context = contextOf(viewer, connections);
    expect((await connections.find({ filters: {} } as never, {}, context)).map((r) => r.id())).toEqual([
      acmeConnectionId,
    ]);
    await expect(connections.update(acmeConnectionId, { label: 'Looked' }, context)).rejects.toThrow(
      ForbiddenError,
    );
    const admins = resource('CrmAdminUser');
    await expect(
      admins.create({ email: 'v2@acme.example', password: 'a-long-password' }, contextOf(viewer, admins)),
    ).rejects.toThrow(ForbiddenError);
    expect(await connections.decorate().actions.edit.isAccessible(viewer)).toBe(false);
    const made = await admins.create(
      { email: 'viewer@acme.example', password: 'a-long-password', role: 'viewer' },
      contextOf(acmeAdmin, admins),
    );
    expect(made).toMatchObject({ role: 'viewer', tenant: 'acme' });
  });

  it('saves a new CRM switch with Enabled unticked as disabled (not "is required")', async () => {
    const switches = resource('CrmProviderSetting');
    const params = await switches.create({ provider: 'pipedrive' }, contextOf(superadmin, switches));
    expect(params).toMatchObject({ provider: 'pipedrive', enabled: false, tenant: null });
  });

  it("shows a tenant admin only its own tenant, and finds nothing of another's", async () => {
    const tenants = resource('CrmTenant');
    const context = contextOf(acmeAdmin, tenants);
    const visible = await tenants.find({ filters: {} } as never, {}, context);
    expect(visible.map((record) => record.id())).toEqual(['acme']);
    expect(await tenants.count({ filters: {} } as never, context)).toBe(1);
    expect(await tenants.findOne('beta', context)).toBeNull();
    expect(await tenants.decorate().actions.edit.isAccessible(acmeAdmin)).toBe(false);

    const connections = resource('CrmConnection');
    const { Filter } = (await loadAdminJs()).adminjs;
    const search = new Filter({ label: 'Pipedrive' }, connections);
    expect(await connections.find(search, {}, contextOf(acmeAdmin, connections))).toEqual([]);
    expect(await connections.find(search, {}, contextOf(superadmin, connections))).toHaveLength(1);
  });

  it('refuses a tenant admin whose login carries no tenant, and trusts a host admin without a CRM role', async () => {
    const connections = resource('CrmConnection');
    const lost = contextOf({ email: 'lost@example.com', role: 'tenant_admin' }, connections);
    expect(await connections.find({ filters: {} } as never, {}, lost)).toEqual([]);
    expect(await connections.findOne(acmeConnectionId, lost)).toBeNull();
    const hostOwner = contextOf({ email: 'owner@host.example', title: 'Host owner' }, connections);
    expect(await connections.count({ filters: {} } as never, hostOwner)).toBe(2);
  });

  it('accepts connection settings only as valid JSON with known values', async () => {
    const connections = resource('CrmConnection');
    const context = contextOf(superadmin, connections);
    await expect(
      connections.update(acmeConnectionId, { settings: '{ not json' }, context),
    ).rejects.toMatchObject({
      propertyErrors: { settings: { message: 'must be valid JSON' } },
    });
    await expect(
      connections.update(acmeConnectionId, { settings: '{"direction": "sideways"}' }, context),
    ).rejects.toMatchObject({
      propertyErrors: { settings: { message: expect.stringMatching(/^direction:/) } },
    });
    await expect(
      connections.update(acmeConnectionId, { settings: '{"accessToken": "x"}' }, context),
    ).rejects.toMatchObject({
      propertyErrors: { settings: { message: expect.stringMatching(/^accessToken:/) } },
    });

    await connections.update(
      acmeConnectionId,
      { settings: '{"direction": "to_crm", "objects": ["Lead"]}' },
      context,
    );
    const stored = await orm.em.fork().findOneOrFail(CrmConnection, acmeConnectionId);
    expect(stored.settings).toEqual({
      ...DEFAULT_CONNECTION_SETTINGS,
      direction: 'to_crm',
      objects: ['Lead'],
    });
  });

  it('revokes a service token (keeping the row) but never edits one', async () => {
    const tokens = resource('CrmServiceToken');
    const context = contextOf(acmeAdmin, tokens);
    const [token] = await tokens.find({ filters: {} } as never, {}, context);
    await expect(tokens.update(String(token.id()), { name: 'renamed' }, context)).rejects.toBeInstanceOf(
      ForbiddenError,
    );

    const revoke = tokens.decorate().actions.revoke;
    const response = (await revoke.handler({ method: 'post', params: {} } as never, {}, {
      ...context,
      record: token,
      action: revoke,
    } as ActionContext)) as { notice: { type: string } };
    expect(response.notice.type).toBe('success');
    const stored = await orm.em.fork().findOneOrFail(ServiceToken, String(token.id()));
    expect(stored.revokedAt).toBeInstanceOf(Date);
    const audit = await orm.em
      .fork()
      .findOneOrFail(AuditLogEntry, { action: 'admin.CrmServiceToken.revoked' });
    expect(audit).toMatchObject({ actor: 'admin:ops@acme.example', tenantId: 'acme' });
  });
});
