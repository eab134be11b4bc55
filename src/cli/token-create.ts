import 'reflect-metadata';
import { ServiceToken, Tenant } from '@pm/domain';
import { generateServiceToken } from '../crm-integrations';
import { runCli } from './cli-context';

/**
 * `npm run token:create -- --name backend [--tenant ws_123]`: issues a service token for the PenguinMails backend.
 * With --tenant it reaches only that tenant; without, every tenant. The token is printed once, only its hash is kept.
 */
void runCli(async ({ orm, args }) => {
  const name = typeof args.name === 'string' ? args.name : 'penguinmails-backend';
  const tenantId = typeof args.tenant === 'string' ? args.tenant : null;
  const em = orm.em;
  if (tenantId && !(await em.findOne(Tenant, { id: tenantId }))) {
    throw new Error(
      `--tenant: tenant "${tenantId}" does not exist (create it with PUT /api/v1/tenants/${tenantId})`,
    );
  }
  const { token, tokenHash, prefix } = generateServiceToken();
  em.create(ServiceToken, { name, tenant: tenantId, tokenHash, prefix });
  await em.flush();
  console.log(`Service token "${name}" for ${tenantId ? `tenant ${tenantId}` : 'all tenants'}: ${token}`);
});
