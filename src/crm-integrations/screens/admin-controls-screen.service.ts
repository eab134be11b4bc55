import { ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { IntegrationPortRegistry } from '@pm/integration-port';
import type { CrmAdminIdentity } from '../admin/admin-identity';
import { AuditService } from '../audit/audit.service';
import { ScreensRepository } from '../repositories';
import { changerOf } from './screen-access';
import { connectionView, settingsChoices, type AdminControlsView } from './screen-views';
import { SyncActivityService } from './sync-activity.service';

/** The admin controls page: CRMs on or off globally and per tenant, connections' frequencies, errors. */
@Injectable()
export class AdminControlsScreenService {
  constructor(
    private readonly registry: IntegrationPortRegistry,
    private readonly screens: ScreensRepository,
    private readonly audit: AuditService,
    private readonly activity: SyncActivityService,
  ) {}

  /** Admin controls: each CRM's switch globally and per tenant, frequencies, errors across tenants. */
  async adminControls(identity: CrmAdminIdentity): Promise<AdminControlsView> {
    const tenantId = identity.tenantId;
    const [tenants, settings, connections, errors] = await Promise.all([
      this.screens.listTenants(tenantId),
      this.screens.listProviderSettings(),
      this.screens.listConnections({ tenantId }),
      this.activity.log({ tenantId, errorsOnly: true }, { pageSize: 20 }),
    ]);
    const switchOf = (provider: string, tenant: string | null) =>
      settings.find((s) => s.provider === provider && (s.tenant?.id ?? null) === tenant)?.enabled ?? null;
    return {
      canSwitchProviders: identity.role === 'superadmin' && identity.tenantId === null,
      canChange: identity.role !== 'viewer',
      providers: this.registry.providers().map((provider) => ({
        provider,
        displayName: this.displayName(provider),
        global: switchOf(provider, null),
        tenants: tenants.map((tenant) => ({ tenantId: tenant.id, enabled: switchOf(provider, tenant.id) })),
      })),
      connections: connections.map((connection) =>
        connectionView(connection, this.displayName(connection.provider)),
      ),
      errors: errors.lines,
      frequencies: settingsChoices(null).frequencies,
    };
  }

  /** Enables or disables a CRM globally (tenantId null) or for one tenant: a platform admin's decision. */
  async setProviderEnabled(
    identity: CrmAdminIdentity,
    input: { provider: string; tenantId: string | null; enabled: boolean },
  ): Promise<void> {
    const auth = changerOf(identity);
    if (identity.tenantId !== null || identity.role !== 'superadmin') {
      throw new ForbiddenException('Only a platform admin enables or disables a CRM');
    }
    if (!this.registry.has(input.provider)) throw new NotFoundException(`Unknown CRM "${input.provider}"`);
    const { before } = await this.screens.saveProviderSetting(input.provider, input.tenantId, input.enabled);
    await this.screens.inOwnContext(() =>
      this.audit.record(auth, {
        tenantId: input.tenantId,
        action: input.enabled ? 'provider.enabled' : 'provider.disabled',
        targetType: 'provider_setting',
        targetId: `${input.provider}:${input.tenantId ?? 'global'}`,
        before: { enabled: before },
        after: { enabled: input.enabled },
      }),
    );
  }

  private displayName(provider: string): string {
    return this.registry.has(provider) ? this.registry.get(provider).capabilities().displayName : provider;
  }
}
