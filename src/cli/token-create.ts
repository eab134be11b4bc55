import 'reflect-metadata';
import { AuditService } from '../crm-integrations/audit/audit.service';
import { ServiceTokenService } from '../crm-integrations/auth/service-token.service';
import { systemApiClock } from '../crm-integrations/http/api-clock';
import {
  AuditLogRepository,
  ServiceTokenRepository,
  TenantRepository,
} from '../crm-integrations/repositories';
import { runCli } from './cli-context';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * `npm run token:create -- --name backend [--tenant ws_123] [--expires-in-days 90]`: issues a service token for the
 * PenguinMails backend. With --tenant it reaches only that tenant; without, every tenant. The token is printed once,
 * only its hash is kept; the issue is audited as `cli`. Revoke with DELETE /api/v1/service-tokens/:id or in AdminJS.
 */
void runCli(async ({ orm, args }) => {
  const name = typeof args.name === 'string' ? args.name : 'penguinmails-backend';
  const tenantId = typeof args.tenant === 'string' ? args.tenant : null;
  const days = args['expires-in-days'];
  if (days !== undefined && (typeof days !== 'string' || !/^[1-9]\d{0,4}$/.test(days))) {
    throw new Error('--expires-in-days: a whole number of days from 1 to 99999');
  }
  const service = new ServiceTokenService(
    new ServiceTokenRepository(orm),
    new TenantRepository(orm),
    new AuditService(new AuditLogRepository(orm)),
    {},
    systemApiClock(),
  );
  const expiresAt = typeof days === 'string' ? new Date(Date.now() + Number(days) * DAY_MS) : null;
  const issued = await service
    .create({ actor: 'cli' }, { name, tenantId, expiresAt })
    .catch((error: { invalidParams?: { name: string; reason: string }[] }) => {
      const problem = error.invalidParams?.[0];
      if (problem?.name === 'tenantId') {
        throw new Error(
          `--tenant: tenant "${tenantId}" does not exist (create it with PUT /api/v1/tenants/${tenantId})`,
        );
      }
      throw error;
    });
  const scope = tenantId ? `tenant ${tenantId}` : 'all tenants';
  const until = issued.expiresAt ? `, expires ${issued.expiresAt}` : '';
  console.log(`Service token "${name}" for ${scope}${until}: ${issued.token}`);
});
