import { ForbiddenException, NotFoundException } from '@nestjs/common';
import type { CrmConnection } from '@pm/domain';
import {
  IntegrationPortRegistry,
  type ConnectorCapabilities,
  type IntegrationPort,
  type TokenSet,
} from '@pm/integration-port';
import { autoMock } from '@pm/integration-port/testing';
import type { AuditService } from '../audit/audit.service';
import type { ConnectionService } from '../connections/connection.service';
import type { ProviderAccessService } from '../connectors/provider-access.service';
import type { CrmIntegrationsOptions } from '../crm-integrations.options';
import { ValidationProblem } from '../http/problem-details.filter';
import type { ConnectionRepository, RecordLinkRepository, SyncCursorRepository } from '../repositories';
import type { TenantService } from '../tenants/tenant.service';
import { aConnection, aTenant } from '../testing/entities';
import type { TokenVault } from '../vault/token-vault';
import { ConnectFlowService } from './connect-flow.service';
import type { OAuthStateStore, VerifiedState } from './oauth-state.store';

const auth = { actor: 'token:app', tenantId: null };

const capabilities = {
  displayName: 'HubSpot',
  objects: [
    { name: 'contacts', role: 'contact' },
    { name: 'companies', role: 'company' },
  ],
  oauth: { pkce: true },
} as unknown as ConnectorCapabilities;

describe('ConnectFlowService', () => {
  let port: jest.Mocked<IntegrationPort>;
  let access: jest.Mocked<ProviderAccessService>;
  let states: jest.Mocked<OAuthStateStore>;
  let vault: jest.Mocked<TokenVault>;
  let tenants: jest.Mocked<TenantService>;
  let audit: jest.Mocked<AuditService>;
  let connections: jest.Mocked<ConnectionRepository>;
  let connectionService: jest.Mocked<ConnectionService>;
  let links: jest.Mocked<RecordLinkRepository>;
  let cursors: jest.Mocked<SyncCursorRepository>;
  let flow: ConnectFlowService;

  const options = {
    publicUrl: 'https://crm.example.test',
    allowedReturnOrigins: ['https://app.example.test'],
  } as CrmIntegrationsOptions;

  const tokens: TokenSet = {
    accessToken: 'access',
    refreshToken: 'refresh',
    account: { id: 'account-1', name: 'Acme Portal' },
  };

  const state = (overrides: Partial<VerifiedState> = {}): VerifiedState => ({
    id: 'state-1',
    tenantId: 'acme',
    provider: 'hubspot',
    connectionId: null,
    startOver: false,
    returnTo: null,
    actor: 'token:app',
    ...overrides,
  });

  beforeEach(() => {
    port = autoMock<IntegrationPort>('hubspot');
    port.capabilities.mockReturnValue(capabilities);
    access = autoMock<ProviderAccessService>('access');
    states = autoMock<OAuthStateStore>('states');
    vault = autoMock<TokenVault>('vault');
    tenants = autoMock<TenantService>('tenants');
    audit = autoMock<AuditService>('audit');
    connections = autoMock<ConnectionRepository>('connections');
    connectionService = autoMock<ConnectionService>('connectionService');
    links = autoMock<RecordLinkRepository>('links');
    cursors = autoMock<SyncCursorRepository>('cursors');
    tenants.require.mockResolvedValue(aTenant());
    flow = new ConnectFlowService(
      options,
      new IntegrationPortRegistry({ hubspot: port }),
      access,
      states,
      vault,
      tenants,
      audit,
      connections,
      connectionService,
      links,
      cursors,
    );
  });

  describe('start', () => {
    it('names the installed CRMs when asked for another one', async () => {
      const error = await flow.start(auth, 'acme', { provider: 'zoho' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationProblem);
      expect((error as ValidationProblem).invalidParams).toEqual([
        { name: 'provider', reason: 'must be one of the installed CRMs: hubspot' },
      ]);
    });

    it('refuses a CRM an administrator disabled for the workspace', async () => {
      access.isEnabled.mockResolvedValue(false);
      await expect(flow.start(auth, 'acme', { provider: 'hubspot' })).rejects.toThrow(
        new ForbiddenException('HubSpot is disabled for this workspace by an administrator'),
      );
    });

    it('refuses a return address outside the allowed origins', async () => {
      access.isEnabled.mockResolvedValue(true);
      const error = await flow
        .start(auth, 'acme', { provider: 'hubspot', returnTo: 'https://evil.example/next' })
        .catch((e: unknown) => e);
      expect((error as ValidationProblem).invalidParams).toEqual([
        { name: 'returnTo', reason: 'is not on an allowed origin' },
      ]);
    });

    it('reconnecting names a connection of this tenant to this CRM, or it is a 404', async () => {
      access.isEnabled.mockResolvedValue(true);
      connections.findForTenant.mockResolvedValue(aConnection({ id: 'conn-1', provider: 'salesforce' }));
      await expect(flow.start(auth, 'acme', { provider: 'hubspot', connectionId: 'conn-1' })).rejects.toThrow(
        NotFoundException,
      );
      expect(connections.findForTenant).toHaveBeenCalledWith('acme', 'conn-1');
    });

    it('reconnect: a sign-in link for the connection’s own CRM, bound to it, keeping the caller’s return address', async () => {
      access.isEnabled.mockResolvedValue(true);
      const connection = aConnection({ id: 'conn-1', provider: 'hubspot' });
      connectionService.require.mockResolvedValue(connection);
      connections.findForTenant.mockResolvedValue(connection);
      const expiresAt = new Date('2030-01-01T00:10:00Z');
      states.issue.mockResolvedValue({ state: 's', codeChallenge: 'c', expiresAt });
      const link = await flow.reconnect(auth, 'acme', 'conn-1', {
        returnTo: 'https://app.example.test/back',
      });
      expect(link.authorizeUrl).toBe('https://crm.example.test/oauth/hubspot/start?state=s');
      expect(connectionService.require).toHaveBeenCalledWith('acme', 'conn-1');
      expect(states.issue).toHaveBeenCalledWith(
        expect.objectContaining({
          tenantId: 'acme',
          provider: 'hubspot',
          connectionId: 'conn-1',
          returnTo: 'https://app.example.test/back',
        }),
      );
    });

    it('reconnect: another tenant’s connection is a 404 and no state is issued', async () => {
      connectionService.require.mockRejectedValue(new NotFoundException('no such connection'));
      await expect(flow.reconnect(auth, 'acme', 'theirs', {})).rejects.toThrow(NotFoundException);
      expect(states.issue).not.toHaveBeenCalled();
    });

    it('issues a state bound to tenant, provider and caller, and a sign-in link using it', async () => {
      access.isEnabled.mockResolvedValue(true);
      const expiresAt = new Date('2030-01-01T00:10:00Z');
      states.issue.mockResolvedValue({ state: 's', codeChallenge: 'c', expiresAt });
      // The answer is this service's start link, which binds the state to the browser that opens it.
      expect(await flow.start(auth, 'acme', { provider: 'hubspot' })).toEqual({
        authorizeUrl: 'https://crm.example.test/oauth/hubspot/start?state=s',
        expiresAt: expiresAt.toISOString(),
      });
      expect(states.issue).toHaveBeenCalledWith(
        expect.objectContaining({ tenantId: 'acme', provider: 'hubspot', pkce: true, actor: 'token:app' }),
      );
      // The CRM's authorize URL is made only when a browser opens the start link.
      expect(port.buildAuthorizeUrl).not.toHaveBeenCalled();
    });
  });

  describe('complete', () => {
    beforeEach(() => {
      connections.flush.mockResolvedValue();
      vault.save.mockResolvedValue();
      audit.record.mockResolvedValue();
    });

    it('creates a connection for a first sign-in, syncing the CRM’s contact objects, and seals the tokens', async () => {
      connections.findForAccount.mockResolvedValue(null);
      const created = aConnection({ status: 'pending', crmAccountId: null, crmAccountName: null });
      connections.create.mockReturnValue(created);
      const connection = await flow.complete(state(), { state: state(), tokens });
      expect(connections.create).toHaveBeenCalledWith('acme', 'hubspot');
      expect(connection).toMatchObject({
        status: 'connected',
        health: 'healthy',
        crmAccountId: 'account-1',
        crmAccountName: 'Acme Portal',
        settings: expect.objectContaining({ objects: ['contacts'] }),
      });
      expect(connections.flush).toHaveBeenCalled();
      expect(vault.save).toHaveBeenCalledWith(created.id, tokens);
      expect(audit.record).toHaveBeenCalledWith(
        { actor: 'token:app' },
        expect.objectContaining({ action: 'connection.connected', before: null }),
      );
    });

    it('a sign-in to the account a connection already has reconnects it, keeping its settings', async () => {
      const existing = aConnection({ status: 'needs_reconnect' });
      existing.settings = { ...existing.settings, objects: ['contacts', 'companies'], frequency: 'hourly' };
      connections.findForAccount.mockResolvedValue(existing);
      const connection = await flow.complete(state(), { state: state(), tokens });
      expect(connection).toBe(existing);
      expect(connection.settings).toMatchObject({ objects: ['contacts', 'companies'], frequency: 'hourly' });
      expect(audit.record).toHaveBeenCalledWith(
        { actor: 'token:app' },
        expect.objectContaining({ action: 'connection.reconnected' }),
      );
    });

    it('refuses a reconnect to a different CRM account, revoking the tokens it just got', async () => {
      connections.findForTenant.mockResolvedValue(aConnection({ id: 'conn-1', crmAccountId: 'account-0' }));
      port.revokeToken.mockResolvedValue();
      await expect(
        flow.complete(state({ connectionId: 'conn-1' }), { state: state(), tokens }),
      ).rejects.toThrow(/different HubSpot account \(Acme Portal\)/);
      expect(port.revokeToken).toHaveBeenCalledWith('refresh', tokens);
      expect(vault.save).not.toHaveBeenCalled();
      expect(links.deleteForConnection).not.toHaveBeenCalled();
    });

    it('starting over with another account forgets the old links and cursors', async () => {
      const existing = aConnection({ id: 'conn-1', crmAccountId: 'account-0' });
      connections.findForTenant.mockResolvedValue(existing);
      links.deleteForConnection.mockResolvedValue();
      cursors.deleteForConnection.mockResolvedValue();
      const connection = await flow.complete(state({ connectionId: 'conn-1', startOver: true }), {
        state: state(),
        tokens,
      });
      expect(links.deleteForConnection).toHaveBeenCalledWith('conn-1');
      expect(cursors.deleteForConnection).toHaveBeenCalledWith('conn-1');
      expect(connection.crmAccountId).toBe('account-1');
      expect(audit.record).toHaveBeenCalledWith(
        { actor: 'token:app' },
        expect.objectContaining({
          action: 'connection.replaced',
          before: { status: 'connected', crmAccountId: 'account-0' },
        }),
      );
    });
  });

  it('disconnects: revokes at the CRM, marks the connection, and audits whether the CRM confirmed', async () => {
    const connection: CrmConnection = aConnection({ id: 'conn-1' });
    connectionService.require.mockResolvedValue(connection);
    vault.revokeAndDelete.mockResolvedValue({ revokedAtCrm: false, reason: 'CRM unreachable' });
    connections.flush.mockResolvedValue();
    audit.record.mockResolvedValue();
    expect(await flow.disconnect(auth, 'acme', 'conn-1')).toEqual({
      status: 'disconnected',
      revokedAtCrm: false,
      reason: 'CRM unreachable',
    });
    expect(connection).toMatchObject({ status: 'disconnected', statusReason: 'Disconnected by the user' });
    expect(connections.flush).toHaveBeenCalled();
    expect(audit.record).toHaveBeenCalledWith(
      auth,
      expect.objectContaining({
        action: 'connection.disconnected',
        after: { status: 'disconnected', revokedAtCrm: false },
      }),
    );
  });
});
