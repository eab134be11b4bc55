import { MikroORM } from '@mikro-orm/postgresql';
import { AuditLogEntry, createOrmConfig, CrmConnection, Tenant } from '@pm/domain';
import type AdminJS from 'adminjs';
import type { ActionContext, BaseResource } from 'adminjs';
import { createCrmAdminContribution, loadAdminJs } from '../../src/crm-integrations/admin';
import type { CrmEntityResource } from '../../src/crm-integrations/admin/crm-entity-resource';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/** Issue 14, holes 1 and 7: what an admin form can and cannot do to a connection. */
describe('AdminJS connection resource (security)', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  let admin: AdminJS;
  let connectionId: string;

  const superadmin = { email: 'root@example.com', role: 'superadmin', tenantId: null };
  const acmeAdmin = { email: 'ops@acme.example', role: 'tenant_admin', tenantId: 'acme' };
  const contextOf = (currentAdmin: object, resource: BaseResource) =>
    ({ currentAdmin, resource, _admin: admin, h: undefined, action: undefined }) as unknown as ActionContext;
  const connections = () => admin.findResource('CrmConnection') as unknown as CrmEntityResource;

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await MikroORM.init(createOrmConfig({ clientUrl: database.url }));
    await orm.getMigrator().up();
    const em = orm.em.fork();
    const acme = em.create(Tenant, { id: 'acme', name: 'Acme Inc' });
    em.create(Tenant, { id: 'beta', name: 'Beta GmbH' });
    const connection = em.create(CrmConnection, {
      tenant: acme,
      provider: 'salesforce',
      label: 'Acme Salesforce',
      status: 'connected',
      crmAccountId: '00D000000000001',
      instanceUrl: 'https://acme.my.salesforce.com',
    });
    await em.flush();
    connectionId = connection.id;
    const { adminjs } = await loadAdminJs();
    const crm = await createCrmAdminContribution({ orm });
    admin = new adminjs.default({ resources: crm.resources, componentLoader: crm.componentLoader });
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  it.each([
    ['a tenant admin', acmeAdmin],
    ['a superadmin', superadmin],
  ])('never lets %s change where a connection sends its token', async (_who, identity) => {
    const resource = connections();
    await resource.update(
      connectionId,
      {
        label: 'Acme Salesforce (EU)',
        instanceUrl: 'http://127.0.0.1:9/steal',
        provider: 'pipedrive',
        crmAccountId: 'someone-else',
        status: 'connected',
        tenant: 'beta',
      },
      contextOf(identity, resource),
    );
    const stored = await orm.em.fork().findOneOrFail(CrmConnection, connectionId);
    expect(stored).toMatchObject({
      label: 'Acme Salesforce (EU)',
      instanceUrl: 'https://acme.my.salesforce.com',
      provider: 'salesforce',
      crmAccountId: '00D000000000001',
    });
    expect(stored.tenant.id).toBe('acme');
    const editable = resource
      .decorate()
      .getProperties({ where: 'edit' })
      .map((property) => property.propertyPath);
    expect(editable.length).toBeGreaterThan(0);
    for (const path of ['instanceUrl', 'provider', 'crmAccountId', 'tenant']) {
      expect(editable).not.toContain(path);
    }
    const audit = await orm.em.fork().find(AuditLogEntry, { targetId: connectionId });
    expect(JSON.stringify(audit.map((entry) => entry.after))).not.toContain('127.0.0.1:9');
  });

  it('offers no "new" connection to anyone: a connection comes only from the OAuth flow', async () => {
    const resource = connections();
    for (const identity of [superadmin, acmeAdmin]) {
      expect(await resource.decorate().actions.new.isAccessible(identity as never)).toBe(false);
      await expect(
        resource.create(
          { provider: 'salesforce', label: 'By hand', status: 'connected' },
          contextOf(identity, resource),
        ),
      ).rejects.toThrow();
    }
    expect(await orm.em.fork().count(CrmConnection, { label: 'By hand' })).toBe(0);
  });
});
