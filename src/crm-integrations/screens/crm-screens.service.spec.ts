import { ForbiddenException, NotFoundException } from '@nestjs/common';
import { IntegrationPortRegistry, type IntegrationPort } from '@pm/integration-port';
import { autoMock } from '@pm/integration-port/testing';
import type { CrmAdminIdentity } from '../admin/admin-identity';
import type { AuditService } from '../audit/audit.service';
import type { ConnectionActivityService } from '../connections/connection-activity.service';
import type { ConnectionService } from '../connections/connection.service';
import type { ProviderAccessService } from '../connectors/provider-access.service';
import type { ConnectFlowService } from '../oauth/connect-flow.service';
import type { RealtimeStatusService } from '../realtime/realtime-status.service';
import type { ReconcileService } from '../reconcile/reconcile.service';
import type { ScreensRepository } from '../repositories';
import type { SyncLogService } from '../sync/sync-log.service';
import type { SyncService } from '../sync/sync.service';
import { aConnection } from '../testing/entities';
import { AdminControlsScreenService } from './admin-controls-screen.service';
import { CrmScreensService } from './crm-screens.service';
import { FieldMappingScreenService } from './field-mapping-screen.service';
import type { FieldMappingScreenSource } from './field-mapping-screen';
import { runCountsRows, SyncActivityService } from './sync-activity.service';

/** The screens' activity part over mocked API services. */
function activityOver(screens: jest.Mocked<ScreensRepository>) {
  const counts = autoMock<ConnectionActivityService>('activity');
  const syncLog = autoMock<SyncLogService>('syncLog');
  const realtime = autoMock<RealtimeStatusService>('realtime');
  const reconciles = autoMock<ReconcileService>('reconciles');
  return {
    counts,
    syncLog,
    realtime,
    reconciles,
    service: new SyncActivityService(screens, counts, syncLog, realtime, reconciles),
  };
}

const hubspot = {
  capabilities: () => ({
    displayName: 'HubSpot',
    objects: [
      { name: 'contacts', label: 'Contacts', role: 'contact' },
      { name: 'companies', label: 'Companies', role: 'company' },
      { name: 'emails', label: 'Emails', role: 'activity' },
    ],
  }),
} as unknown as IntegrationPort;

const platform: CrmAdminIdentity = { email: 'root@example.com', role: 'superadmin', tenantId: null };
const acmeAdmin: CrmAdminIdentity = { email: 'a@acme.example', role: 'tenant_admin', tenantId: 'acme' };
const viewer: CrmAdminIdentity = { email: 'v@acme.example', role: 'viewer', tenantId: 'acme' };
const CONNECTION_ID = '6f1c2b8e-0a4d-4c57-9a1e-3b2d4c5e6f70';

describe('CrmScreensService', () => {
  let access: jest.Mocked<ProviderAccessService>;
  let flow: jest.Mocked<ConnectFlowService>;
  let connections: jest.Mocked<ConnectionService>;
  let sync: jest.Mocked<SyncService>;
  let screens: jest.Mocked<ScreensRepository>;
  let audit: jest.Mocked<AuditService>;
  let service: CrmScreensService;

  beforeEach(() => {
    access = autoMock<ProviderAccessService>('access');
    flow = autoMock<ConnectFlowService>('flow');
    connections = autoMock<ConnectionService>('connections');
    sync = autoMock<SyncService>('sync');
    screens = autoMock<ScreensRepository>('screens');
    audit = autoMock<AuditService>('audit');
    screens.inOwnContext.mockImplementation((work) => work());
    const registry = new IntegrationPortRegistry({ hubspot });
    service = new CrmScreensService(
      registry,
      access,
      flow,
      connections,
      sync,
      screens,
      audit,
      activityOver(screens).service,
      new AdminControlsScreenService(registry, screens, audit, activityOver(screens).service),
      new FieldMappingScreenService(registry, screens, autoMock<FieldMappingScreenSource>('mappings')),
    );
  });

  it("keeps a tenant's admin and viewer to their tenant, and lets a platform admin see all or one", () => {
    expect(() => service.scope(acmeAdmin, 'beta')).toThrow(ForbiddenException);
    expect(() => service.scope(viewer, 'beta')).toThrow(ForbiddenException);
    expect(service.scope(acmeAdmin)).toBe('acme');
    expect(service.scope(platform)).toBeNull();
    expect(service.scope(platform, 'beta')).toBe('beta');
  });

  it('refuses every change to a viewer before reading or writing anything', async () => {
    const refusals = [
      service.saveSettings(viewer, CONNECTION_ID, { frequency: 'daily' }),
      service.disconnect(viewer, CONNECTION_ID),
      service.syncNow(viewer, CONNECTION_ID),
      service.reconcileNow(viewer, CONNECTION_ID),
      service.startConnect(viewer, { tenantId: 'acme', provider: 'hubspot', returnTo: 'http://x' }),
      service.reconnect(viewer, CONNECTION_ID, 'http://x'),
      service.mapping.saveMapping(viewer, { connectionId: CONNECTION_ID, object: 'contacts', rows: [] }),
      service.controls.setProviderEnabled(viewer, { provider: 'hubspot', tenantId: null, enabled: false }),
    ];
    for (const refusal of refusals) await expect(refusal).rejects.toThrow('A viewer cannot change anything');
  });

  it("finds a connection only within the admin's tenant", async () => {
    screens.findConnection.mockResolvedValue(null);
    await expect(service.configuration(acmeAdmin, CONNECTION_ID)).rejects.toThrow(NotFoundException);
    expect(screens.findConnection).toHaveBeenCalledWith({ tenantId: 'acme' }, CONNECTION_ID);
    await expect(service.configuration(acmeAdmin, 'not-an-id')).rejects.toThrow(NotFoundException);
    expect(screens.findConnection).toHaveBeenCalledTimes(1);
  });

  it('answers errors per field and saves nothing when settings are wrong', async () => {
    screens.findConnection.mockResolvedValue(aConnection({ id: CONNECTION_ID }));
    expect(await service.saveSettings(acmeAdmin, CONNECTION_ID, { objects: [] })).toEqual({
      errors: { objects: 'Choose at least one object to sync' },
    });
    expect(await service.saveSettings(acmeAdmin, CONNECTION_ID, { objects: ['emails', 'deals'] })).toEqual({
      errors: { objects: 'HubSpot has no emails, deals to sync' },
    });
    const wrong = await service.saveSettings(acmeAdmin, CONNECTION_ID, {
      direction: 'sideways',
      accessToken: 'x',
    });
    expect(Object.keys((wrong as { errors: object }).errors).sort()).toEqual(['accessToken', 'direction']);
  });

  it('saves valid settings through ConnectionService as the admin, in its tenant', async () => {
    const connection = aConnection({ id: CONNECTION_ID });
    screens.findConnection.mockResolvedValue(connection);
    screens.listRuns.mockResolvedValue([]);
    connections.updateSettings.mockResolvedValue({} as never);
    const saved = await service.saveSettings(acmeAdmin, CONNECTION_ID, {
      objects: ['contacts', 'companies'],
      frequency: 'hourly',
    });
    expect(connections.updateSettings).toHaveBeenCalledWith(
      { actor: 'admin:a@acme.example', tenantId: 'acme' },
      'acme',
      CONNECTION_ID,
      expect.objectContaining({ objects: ['contacts', 'companies'], frequency: 'hourly' }),
    );
    expect(saved).toHaveProperty('saved.choices.objects', [
      { name: 'contacts', label: 'Contacts' },
      { name: 'companies', label: 'Companies' },
    ]);
  });

  it('lets only a platform admin switch a CRM, and audits the switch with its state before', async () => {
    await expect(
      service.controls.setProviderEnabled(acmeAdmin, {
        provider: 'hubspot',
        tenantId: 'acme',
        enabled: false,
      }),
    ).rejects.toThrow('Only a platform admin enables or disables a CRM');
    screens.saveProviderSetting.mockResolvedValue({ before: null });
    audit.record.mockResolvedValue();
    await service.controls.setProviderEnabled(platform, {
      provider: 'hubspot',
      tenantId: 'beta',
      enabled: false,
    });
    expect(screens.saveProviderSetting).toHaveBeenCalledWith('hubspot', 'beta', false);
    expect(audit.record).toHaveBeenCalledWith(
      { actor: 'admin:root@example.com', tenantId: null },
      expect.objectContaining({
        tenantId: 'beta',
        action: 'provider.disabled',
        before: { enabled: null },
        after: { enabled: false },
      }),
    );
  });
});

describe('SyncActivityService', () => {
  const day = { date: '2026-12-06', from: '2026-12-06T00:00:00.000Z', to: '2026-12-06T15:30:00.000Z' };
  const row = (connectionId: string, contactsIn: number, contactsOut: number, errors = 0) => ({
    connectionId,
    provider: 'hubspot',
    crmAccountName: null,
    status: 'connected',
    health: 'healthy',
    contactsIn,
    contactsOut,
    activitiesLogged: 7,
    conflictsResolved: 0,
    errors,
  });

  it('shows the newest reconcile that found drift, and says when another is waiting', async () => {
    const screens = autoMock<ScreensRepository>('screens');
    screens.inContext.mockImplementation((work) => work());
    const { reconciles, service } = activityOver(screens);
    const drift = {
      contacts: {
        crmRecords: 60,
        localContacts: 67,
        missingInCrm: 7,
        changedInCrm: 0,
        notInCrm: 0,
        changedLocally: 0,
        notInPenguinMails: 0,
      },
    };
    const run = (id: string, status: string, found: typeof drift | null) =>
      ({
        id,
        status,
        queuedAt: 'q',
        startedAt: 's',
        finishedAt: found ? `f-${id}` : null,
        drift: found,
      }) as never;
    reconciles.listRuns.mockResolvedValue([
      run('r3', 'queued', null),
      run('r2', 'succeeded', drift),
      run('r1', 'succeeded', drift),
    ]);
    expect(await service.reconcile('acme', 'c1')).toEqual({
      latest: { runId: 'r2', at: 'f-r2', status: 'succeeded', drift },
      pending: true,
    });
    expect(reconciles.listRuns).toHaveBeenCalledWith('acme', 'c1', 5);
    reconciles.listRuns.mockResolvedValue([]);
    expect(await service.reconcile('acme', 'c1')).toEqual({ latest: null, pending: false });
  });

  it("shows the API's counts, contacts in and out as one figure, per connection and summed", async () => {
    const screens = autoMock<ScreensRepository>('screens');
    const { counts, service } = activityOver(screens);
    const zero = { contactsIn: 0, contactsOut: 0, activitiesLogged: 0, conflictsResolved: 0, errors: 0 };
    counts.todayCounts.mockResolvedValue({
      ...day,
      totals: zero,
      connections: [row('c1', 5, 3), row('c2', 1, 0, 2)],
    });
    const today = await service.todayCounts({ tenantId: 'acme' });
    expect(counts.todayCounts).toHaveBeenCalledWith('acme', undefined);
    expect(today.totals).toEqual({
      contactsSynced: 9,
      activitiesLogged: 14,
      conflictsResolved: 0,
      errors: 2,
    });
    expect(today.byConnection.get('c1')).toEqual({
      contactsSynced: 8,
      activitiesLogged: 7,
      conflictsResolved: 0,
      errors: 0,
    });

    counts.platformTodayCounts.mockResolvedValue({ ...day, totals: zero, connections: [row('c3', 0, 4)] });
    expect((await service.todayCounts({ tenantId: null })).totals.contactsSynced).toBe(4);
  });

  it("reads the log through the API's service: errors only wins over an action, every tenant only for null", async () => {
    const screens = autoMock<ScreensRepository>('screens');
    const { syncLog, service } = activityOver(screens);
    const line = {
      id: '9',
      at: '2026-12-06T10:00:00.000Z',
      connectionId: CONNECTION_ID,
      runId: null,
      direction: 'from_crm',
      object: 'contacts',
      recordKey: 'ada@example.com',
      action: 'error',
      message: 'HubSpot said no',
      details: null,
    };
    syncLog.page.mockResolvedValue({ data: [line], nextCursor: 'next' });
    syncLog.platformPage.mockResolvedValue({ data: [], nextCursor: null });
    syncLog.count.mockResolvedValue(41);
    screens.listConnections.mockResolvedValue([aConnection({ id: CONNECTION_ID, provider: 'hubspot' })]);

    const page = await service.log(
      { tenantId: 'acme', action: 'created', errorsOnly: true },
      { pageSize: 500 },
    );
    expect(syncLog.page).toHaveBeenCalledWith(
      'acme',
      expect.objectContaining({ action: undefined, errorsOnly: true, limit: 100 }),
    );
    expect(page).toEqual({
      lines: [
        expect.objectContaining({ id: '9', arrow: '←', provider: 'hubspot', message: 'HubSpot said no' }),
      ],
      nextCursor: 'next',
      total: 41,
      pageSize: 100,
    });
    await service.log({ tenantId: null }, { cursor: 'abc', pageSize: 20 });
    expect(syncLog.platformPage).toHaveBeenCalledWith(expect.objectContaining({ cursor: 'abc', limit: 20 }));
    expect(syncLog.count).toHaveBeenLastCalledWith(null, expect.not.objectContaining({ cursor: 'abc' }));
  });

  it("turns a run's counts into one row per direction and object", () => {
    const zero = { created: 0, updated: 0, skipped: 0, conflicts: 0, errors: 0, deleted: 0 };
    expect(
      runCountsRows({
        to_crm: { contacts: { ...zero, created: 3 } },
        from_crm: { contacts: { ...zero, errors: 1 } },
      }),
    ).toEqual([
      { direction: 'to_crm', object: 'contacts', ...zero, created: 3 },
      { direction: 'from_crm', object: 'contacts', ...zero, errors: 1 },
    ]);
    expect(runCountsRows(null)).toEqual([]);
  });
});
