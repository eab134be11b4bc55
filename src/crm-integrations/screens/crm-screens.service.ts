import { Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import type { CrmConnection } from '@pm/domain';
import { IntegrationPortRegistry } from '@pm/integration-port';
import type { CrmAdminIdentity } from '../admin/admin-identity';
import { AuditService } from '../audit/audit.service';
import type { AuthContext } from '../auth/auth-context';
import { UpdateConnectionSettingsDto } from '../connections/connection.dto';
import { ConnectionService } from '../connections/connection.service';
import { ProviderAccessService } from '../connectors/provider-access.service';
import { ConnectFlowService } from '../oauth/connect-flow.service';
import { ScreensRepository } from '../repositories';
import { SyncService } from '../sync/sync.service';
import { AdminControlsScreenService } from './admin-controls-screen.service';
import { FieldMappingScreenService } from './field-mapping-screen.service';
import { changerOf, findScreenConnection, screenScope } from './screen-access';
import {
  COMING_SOON,
  connectionView,
  settingsChoices,
  type ConfigurationView,
  type ConnectView,
  type HomeView,
  type SettingsErrors,
} from './screen-views';
import type { RealtimeStatusDto } from '../realtime/realtime.dto';
import {
  SyncActivityService,
  todayCountsView,
  type LogLineView,
  type LogPageView,
  type ReconcileView,
  type RunView,
  type TodayCounts,
} from './sync-activity.service';

/** The full log's query as the Sync Activity page sends it (all text, from a form). */
export interface LogQuery {
  tenantId?: string;
  connectionId?: string;
  direction?: string;
  action?: string;
  errorsOnly?: boolean;
  from?: string;
  to?: string;
  /** The previous page's `nextCursor`; none for the first page. */
  cursor?: string;
  pageSize?: number;
}

const DIRECTIONS = ['to_crm', 'from_crm', 'none'] as const;

/**
 * What the AdminJS screens (home, Connect, Configuration, Sync Activity, admin controls) do, for an admin identity:
 * its tenant scope decides what it sees, a viewer changes nothing, and every change goes through the same services
 * as the API (so it is validated and audited the same way). Handlers call it outside any Nest request.
 */
@Injectable()
export class CrmScreensService {
  constructor(
    private readonly registry: IntegrationPortRegistry,
    private readonly access: ProviderAccessService,
    private readonly flow: ConnectFlowService,
    private readonly connectionService: ConnectionService,
    private readonly sync: SyncService,
    private readonly screens: ScreensRepository,
    private readonly audit: AuditService,
    private readonly activity: SyncActivityService,
    /** The admin controls page's part. */
    readonly controls: AdminControlsScreenService,
    /** The Field mapping page's part. */
    readonly mapping: FieldMappingScreenService,
  ) {}

  async home(identity: CrmAdminIdentity, tenantId?: string): Promise<HomeView> {
    const scope = this.scope(identity, tenantId);
    const [tenants, connections, errors, today] = await Promise.all([
      this.screens.listTenants(scope),
      this.screens.listConnections({ tenantId: scope }),
      this.activity.log({ tenantId: scope, errorsOnly: true }, { pageSize: 5 }),
      this.activity.todayCounts({ tenantId: scope }),
    ]);
    const views = connections.map((connection) => ({
      ...this.view(connection),
      today: today.byConnection.get(connection.id) ?? todayCountsView(undefined),
    }));
    return {
      allTenants: scope === null,
      canChange: identity.role !== 'viewer',
      tenants: tenants.map((tenant) => ({
        id: tenant.id,
        name: tenant.name,
        connections: views.filter((view) => view.tenantId === tenant.id),
      })),
      recentErrors: errors.lines,
    };
  }

  async connect(identity: CrmAdminIdentity, tenantId?: string): Promise<ConnectView> {
    const scope = this.scope(identity, tenantId);
    // Every tenant the admin may pick from, the one asked for selected.
    const tenants = await this.screens.listTenants(identity.tenantId);
    const selected = tenants.find((tenant) => tenant.id === scope) ?? tenants[0] ?? null;
    const connections = selected ? await this.screens.listConnections({ tenantId: selected.id }) : [];
    const cards = await Promise.all(
      this.registry.providers().map(async (provider) => ({
        provider,
        displayName: this.displayName(provider),
        enabled: selected ? await this.access.isEnabled(provider, selected.id) : false,
        connections: connections
          .filter((connection) => connection.provider === provider)
          .map((connection) => this.view(connection)),
      })),
    );
    return {
      tenants: tenants.map((tenant) => ({ id: tenant.id, name: tenant.name })),
      tenantId: selected?.id ?? null,
      canChange: identity.role !== 'viewer',
      cards,
      comingSoon: COMING_SOON,
    };
  }

  /** The seed's "Connect": a sign-in link that comes back to `returnTo` (the Configuration page) connected. */
  async startConnect(
    identity: CrmAdminIdentity,
    input: { tenantId: string; provider: string; returnTo: string; connectionId?: string },
  ): Promise<{ authorizeUrl: string }> {
    const auth = this.changer(identity);
    this.scope(identity, input.tenantId);
    const started = await this.screens.inOwnContext(() =>
      this.flow.start(auth, input.tenantId, {
        provider: input.provider,
        returnTo: input.returnTo,
        ...(input.connectionId ? { connectionId: input.connectionId } : {}),
      }),
    );
    return { authorizeUrl: started.authorizeUrl };
  }

  /** Reconnect: the same sign-in, bound to the connection, so settings, links and history stay. */
  async reconnect(
    identity: CrmAdminIdentity,
    connectionId: string,
    returnTo: string,
  ): Promise<{ authorizeUrl: string }> {
    this.changer(identity);
    const connection = await this.connection(identity, connectionId);
    return this.startConnect(identity, {
      tenantId: connection.tenant.id,
      provider: connection.provider,
      returnTo,
      connectionId,
    });
  }

  async configuration(identity: CrmAdminIdentity, connectionId: string): Promise<ConfigurationView> {
    const connection = await this.connection(identity, connectionId);
    const capabilities = this.registry.has(connection.provider)
      ? this.registry.get(connection.provider).capabilities()
      : null;
    const lastRun = (await this.activity.recentRuns({ tenantId: null, connectionId }, 1))[0] ?? null;
    return {
      connection: this.view(connection),
      settings: { ...connection.settings },
      choices: settingsChoices(capabilities),
      lastRun,
      canChange: identity.role !== 'viewer',
    };
  }

  /** Save Settings: errors per field (shown beside it), or the saved configuration. */
  async saveSettings(
    identity: CrmAdminIdentity,
    connectionId: string,
    input: Record<string, unknown>,
  ): Promise<{ errors: SettingsErrors } | { saved: ConfigurationView }> {
    const auth = this.changer(identity);
    const connection = await this.connection(identity, connectionId);
    const dto = plainToInstance(UpdateConnectionSettingsDto, input);
    const errors: SettingsErrors = {};
    for (const error of await validate(dto, { whitelist: true, forbidNonWhitelisted: true })) {
      errors[error.property] = Object.values(error.constraints ?? {})[0] ?? 'is not allowed';
    }
    const supported = settingsChoices(this.capabilities(connection.provider)).objects.map((o) => o.name);
    if (Array.isArray(dto.objects) && !errors.objects) {
      const unknown = dto.objects.filter((object) => !supported.includes(object));
      if (dto.objects.length === 0) errors.objects = 'Choose at least one object to sync';
      else if (unknown.length > 0)
        errors.objects = `${this.displayName(connection.provider)} has no ${unknown.join(', ')} to sync`;
    }
    if (Object.keys(errors).length > 0) return { errors };
    await this.screens.inOwnContext(() =>
      this.connectionService.updateSettings(auth, connection.tenant.id, connectionId, dto),
    );
    return { saved: await this.configuration(identity, connectionId) };
  }

  /** Disconnect: revokes the token at the CRM and deletes it here, as the API does. */
  async disconnect(identity: CrmAdminIdentity, connectionId: string): Promise<{ revokedAtCrm: boolean }> {
    const auth = this.changer(identity);
    const connection = await this.connection(identity, connectionId);
    const result = await this.screens.inOwnContext(() =>
      this.flow.disconnect(auth, connection.tenant.id, connectionId),
    );
    return { revokedAtCrm: result.revokedAtCrm };
  }

  async syncNow(
    identity: CrmAdminIdentity,
    connectionId: string,
  ): Promise<{ queued: boolean; runId: string }> {
    const auth = this.changer(identity);
    const connection = await this.connection(identity, connectionId);
    const result = await this.screens.inOwnContext(() =>
      this.sync.syncNow(auth, connection.tenant.id, connectionId),
    );
    // Who asked for the run: the run itself records only that it was manual.
    await this.screens.inOwnContext(() =>
      this.audit.record(auth, {
        tenantId: connection.tenant.id,
        action: 'connection.sync_requested',
        targetType: 'crm_connection',
        targetId: connectionId,
        before: null,
        after: { runId: result.run.id, queued: result.queued },
      }),
    );
    return { queued: result.queued, runId: result.run.id };
  }

  /** Reconcile now: queued through the API's service (same checks), audited with who asked, like Sync Now. */
  async reconcileNow(
    identity: CrmAdminIdentity,
    connectionId: string,
  ): Promise<{ queued: boolean; runId: string }> {
    const auth = this.changer(identity);
    const connection = await this.connection(identity, connectionId);
    const result = await this.activity.reconcileNow(connection.tenant.id, connectionId);
    await this.screens.inOwnContext(() =>
      this.audit.record(auth, {
        tenantId: connection.tenant.id,
        action: 'connection.reconcile_requested',
        targetType: 'crm_connection',
        targetId: connectionId,
        before: null,
        after: { runId: result.runId, queued: result.queued },
      }),
    );
    return result;
  }

  /**
   * The Sync Activity page: today's counts, the recent log and runs, for a connection or the whole scope; for a
   * connection also real-time on or off, the measured lag and the latest reconcile's drift.
   */
  async syncActivity(
    identity: CrmAdminIdentity,
    input: { tenantId?: string; connectionId?: string },
  ): Promise<{
    connections: ReturnType<typeof connectionView>[];
    connectionId: string | null;
    today: TodayCounts;
    recent: LogLineView[];
    runs: RunView[];
    realtime: RealtimeStatusDto | null;
    reconcile: ReconcileView | null;
    canChange: boolean;
  }> {
    const tenantId = this.scope(identity, input.tenantId);
    const connection = input.connectionId ? await this.connection(identity, input.connectionId) : null;
    const scope = { tenantId, connectionId: connection?.id };
    const [connections, today, recent, runs, realtime, reconcile] = await Promise.all([
      this.screens.listConnections({ tenantId }),
      // A connection's counts are read within its own tenant (a platform admin's scope is every tenant).
      this.activity.todayCounts(
        connection ? { tenantId: connection.tenant.id, connectionId: connection.id } : scope,
      ),
      this.activity.log(scope, { pageSize: 10 }),
      this.activity.recentRuns(scope, 5),
      connection ? this.activity.realtime(connection.tenant.id, connection.id) : null,
      connection ? this.activity.reconcile(connection.tenant.id, connection.id) : null,
    ]);
    return {
      connections: connections.map((view) => this.view(view)),
      connectionId: connection?.id ?? null,
      today: today.totals,
      recent: recent.lines,
      runs,
      realtime,
      reconcile,
      canChange: identity.role !== 'viewer',
    };
  }

  /** View Full Log: filters (connection, direction, action, errors only, date range) and cursor paging. */
  fullLog(identity: CrmAdminIdentity, query: LogQuery): Promise<LogPageView> {
    const tenantId = this.scope(identity, query.tenantId);
    const date = (text?: string) => (text && !Number.isNaN(Date.parse(text)) ? new Date(text) : undefined);
    const to = date(query.to);
    // A date without a time means the whole of that day: up to the next midnight (the log's `to` is exclusive).
    if (to && query.to && /^\d{4}-\d{2}-\d{2}$/.test(query.to)) to.setUTCDate(to.getUTCDate() + 1);
    return this.activity.log(
      {
        tenantId,
        connectionId: query.connectionId || undefined,
        direction: DIRECTIONS.find((direction) => direction === query.direction),
        action: (query.action || undefined) as never,
        errorsOnly: query.errorsOnly === true,
        from: date(query.from),
        to,
      },
      { cursor: query.cursor, pageSize: query.pageSize ?? 20 },
    );
  }

  /** The tenant the identity may look at (see `screenScope`). */
  scope(identity: CrmAdminIdentity, tenantId?: string): string | null {
    return screenScope(identity, tenantId);
  }

  private changer(identity: CrmAdminIdentity): AuthContext {
    return changerOf(identity);
  }

  private connection(identity: CrmAdminIdentity, connectionId: string): Promise<CrmConnection> {
    return findScreenConnection(this.screens, identity, connectionId);
  }

  private capabilities(provider: string) {
    return this.registry.has(provider) ? this.registry.get(provider).capabilities() : null;
  }

  private displayName(provider: string): string {
    return this.capabilities(provider)?.displayName ?? provider;
  }

  private view(connection: CrmConnection) {
    return connectionView(connection, this.displayName(connection.provider));
  }
}
