import {
  Optional,
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  type OnModuleInit,
} from '@nestjs/common';
import type { CrmConnection } from '@pm/domain';
import { IntegrationPortRegistry } from '@pm/integration-port';
import type { Request, Response } from 'express';
import passport from 'passport';
import { AuditService } from '../audit/audit.service';
import type { AuthContext } from '../auth/auth-context';
import { ConnectionResponseDto } from '../connections/connection.dto';
import { ConnectionService } from '../connections/connection.service';
import { ProviderAccessService } from '../connectors/provider-access.service';
import { CRM_INTEGRATIONS_OPTIONS, type CrmIntegrationsOptions } from '../crm-integrations.options';
import { ValidationProblem } from '../http/problem-details.filter';
import { ConnectionRepository, RecordLinkRepository, SyncCursorRepository } from '../repositories';
import { RealtimeChannelService } from '../realtime/realtime-channel.service';
import { TenantService } from '../tenants/tenant.service';
import { TokenVault } from '../vault/token-vault';
import type {
  DisconnectResponseDto,
  ReconnectDto,
  StartConnectionDto,
  StartConnectionResponseDto,
} from './connect.dto';
import { createCrmOAuthStrategy, strategyName, type OAuthCallbackResult } from './crm-oauth.strategy';
import { renderOAuthResultPage } from './oauth-result.page';
import { clearBindingCookie, setBindingCookie } from './oauth-browser-binding';
import { OAUTH_STATE_TTL_MS, OAuthStateStore, type VerifiedState } from './oauth-state.store';

/** The seed's "Connect" and "Authenticate" steps, and disconnecting. */
@Injectable()
export class ConnectFlowService implements OnModuleInit {
  private readonly logger = new Logger(ConnectFlowService.name);

  constructor(
    @Inject(CRM_INTEGRATIONS_OPTIONS) private readonly options: CrmIntegrationsOptions,
    private readonly registry: IntegrationPortRegistry,
    private readonly access: ProviderAccessService,
    private readonly states: OAuthStateStore,
    private readonly vault: TokenVault,
    private readonly tenants: TenantService,
    private readonly audit: AuditService,
    private readonly connections: ConnectionRepository,
    private readonly connectionService: ConnectionService,
    private readonly links: RecordLinkRepository,
    private readonly cursors: SyncCursorRepository,
    @Optional() private readonly realtime?: RealtimeChannelService,
  ) {}

  onModuleInit(): void {
    for (const provider of this.registry.providers()) {
      createCrmOAuthStrategy(this.registry.get(provider), this.states, this.callbackUrl(provider));
    }
  }

  callbackUrl(provider: string): string {
    return `${this.options.publicUrl}/oauth/${provider}/callback`;
  }

  async start(
    auth: AuthContext,
    tenantId: string,
    dto: StartConnectionDto,
  ): Promise<StartConnectionResponseDto> {
    await this.tenants.require(tenantId);
    if (!this.registry.has(dto.provider)) {
      const installed = this.registry.providers().join(', ') || 'none';
      throw new ValidationProblem([
        { name: 'provider', reason: `must be one of the installed CRMs: ${installed}` },
      ]);
    }
    const port = this.registry.get(dto.provider);
    const name = port.capabilities().displayName;
    if (!(await this.access.isEnabled(dto.provider, tenantId))) {
      throw new ForbiddenException(`${name} is disabled for this workspace by an administrator`);
    }
    if (dto.returnTo && !this.allowedReturn(dto.returnTo)) {
      throw new ValidationProblem([{ name: 'returnTo', reason: 'is not on an allowed origin' }]);
    }
    if (dto.connectionId) {
      const existing = await this.connections.findForTenant(tenantId, dto.connectionId);
      if (!existing || existing.provider !== dto.provider) {
        throw new NotFoundException(
          `Connection "${dto.connectionId}" to ${name} does not exist for this tenant`,
        );
      }
    }
    const issued = await this.states.issue({
      tenantId,
      provider: dto.provider,
      pkce: port.capabilities().oauth.pkce,
      connectionId: dto.connectionId,
      startOver: dto.startOver,
      returnTo: dto.returnTo,
      actor: auth.actor,
    });
    // A first-party start link: the browser that opens it is bound to the state, then sent on to the CRM.
    const startUrl = new URL(`${this.options.publicUrl}/oauth/${encodeURIComponent(dto.provider)}/start`);
    startUrl.searchParams.set('state', issued.state);
    return { authorizeUrl: startUrl.toString(), expiresAt: issued.expiresAt.toISOString() };
  }

  /**
   * A new sign-in link for an existing connection's CRM (after a disconnect, or `needs_reconnect`): completing it
   * with the same CRM account keeps settings, links and history (see `complete`).
   */
  async reconnect(
    auth: AuthContext,
    tenantId: string,
    connectionId: string,
    dto: ReconnectDto,
  ): Promise<StartConnectionResponseDto> {
    const connection = await this.connectionService.require(tenantId, connectionId);
    return this.start(auth, tenantId, { ...dto, provider: connection.provider, connectionId: connection.id });
  }

  /**
   * GET /oauth/:provider/start: binds the state to this browser (a cookie, once) and redirects to the CRM's
   * authorize URL. A second browser opening the same link is refused, so only the browser that started the flow
   * can complete it.
   */
  async openStartLink(provider: string, state: string | undefined, res: Response): Promise<void> {
    const bound = this.registry.has(provider) ? await this.states.bindBrowser(provider, state) : null;
    if (!bound || !state) {
      res
        .status(400)
        .type('html')
        .send(
          renderOAuthResultPage({
            ok: false,
            message:
              'This sign-in link has expired, was already opened, or belongs to another CRM. Start connecting again.',
          }),
        );
      return;
    }
    setBindingCookie(res, {
      provider,
      state,
      binding: bound.binding,
      secure: this.options.publicUrl.startsWith('https://'),
      maxAgeMs: OAUTH_STATE_TTL_MS,
    });
    const authorizeUrl = this.registry.get(provider).buildAuthorizeUrl({
      state,
      redirectUri: this.callbackUrl(provider),
      codeChallenge: bound.codeChallenge,
    });
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(302, authorizeUrl);
  }

  /** The CRM redirects the user's browser here. Passport verifies; we store; the user sees a clear page. */
  handleCallback(provider: string, req: Request, res: Response): void {
    if (!this.registry.has(provider)) {
      res
        .status(404)
        .type('html')
        .send(renderOAuthResultPage({ ok: false, message: `Unknown CRM "${provider}".` }));
      return;
    }
    const authenticate = passport.authenticate(
      strategyName(provider),
      { session: false },
      (
        error: unknown,
        result: OAuthCallbackResult | false,
        info: { state?: VerifiedState; message?: string },
      ) => {
        const state = typeof req.query.state === 'string' ? req.query.state : undefined;
        clearBindingCookie(res, provider, state);
        if (error || !result || !info?.state) {
          const message = error
            ? `The CRM sign-in could not be completed: ${error instanceof Error ? error.message : String(error)}`
            : (info?.message ?? 'The CRM sign-in was cancelled.');
          if (error) this.logger.warn(`OAuth callback for ${provider} failed: ${message}`);
          res
            .status(400)
            .type('html')
            .send(renderOAuthResultPage({ ok: false, message }));
          return;
        }
        this.complete(info.state, result).then(
          (outcome) => this.respond(res, info.state!, outcome),
          (failure: unknown) => {
            const message = failure instanceof Error ? failure.message : String(failure);
            res
              .status(409)
              .type('html')
              .send(renderOAuthResultPage({ ok: false, message }));
          },
        );
      },
    );
    authenticate(req, res, (error: unknown) => {
      res
        .status(500)
        .type('html')
        .send(renderOAuthResultPage({ ok: false, message: String(error) }));
    });
  }

  /**
   * Stores the connection once passport verified the callback: a reconnect to the same CRM account keeps
   * settings, links and history; a different account is refused unless the user asked to start over.
   */
  async complete(state: VerifiedState, { tokens }: OAuthCallbackResult): Promise<CrmConnection> {
    const port = this.registry.get(state.provider);
    const name = port.capabilities().displayName;
    let connection: CrmConnection | null = null;
    let reset = false;
    if (state.connectionId) {
      connection = await this.connections.findForTenant(state.tenantId, state.connectionId);
      if (connection?.crmAccountId && connection.crmAccountId !== tokens.account.id) {
        if (!state.startOver) {
          await port.revokeToken(tokens.refreshToken ?? tokens.accessToken, tokens).catch(() => undefined);
          throw new Error(
            `You signed in to a different ${name} account (${tokens.account.name ?? tokens.account.id}) than this ` +
              `connection uses (${connection.crmAccountName ?? connection.crmAccountId}). Sign in to the same ` +
              'account, or start over to replace it.',
          );
        }
        reset = true;
      }
    }
    connection ??= await this.connections.findForAccount(state.tenantId, state.provider, tokens.account.id);
    const before = connection ? ConnectionResponseDto.from(connection) : null;
    connection ??= this.connections.create(state.tenantId, state.provider);
    if (reset) {
      await this.links.deleteForConnection(connection.id);
      await this.cursors.deleteForConnection(connection.id);
    }
    Object.assign(connection, {
      status: 'connected',
      statusReason: null,
      health: 'healthy',
      healthReason: null,
      crmAccountId: tokens.account.id,
      crmAccountName: tokens.account.name ?? connection.crmAccountName ?? null,
      crmUserId: tokens.account.userId ?? null,
      instanceUrl: tokens.instanceUrl ?? null,
      connectedAt: new Date(),
      disconnectedAt: null,
    });
    if (connection.settings.objects.length === 0) {
      connection.settings = {
        ...connection.settings,
        objects: port
          .capabilities()
          .objects.filter((o) => o.role === 'contact')
          .map((o) => o.name),
      };
    }
    await this.connections.flush();
    await this.vault.save(connection.id, tokens);
    await this.audit.record(
      { actor: state.actor },
      {
        tenantId: state.tenantId,
        action: before ? (reset ? 'connection.replaced' : 'connection.reconnected') : 'connection.connected',
        targetType: 'crm_connection',
        targetId: connection.id,
        before: before ? { status: before.status, crmAccountId: before.crmAccountId } : null,
        after: { status: 'connected', crmAccountId: connection.crmAccountId },
      },
    );
    await this.realtime?.connected(connection);
    return connection;
  }

  async disconnect(
    auth: AuthContext,
    tenantId: string,
    connectionId: string,
  ): Promise<DisconnectResponseDto> {
    const connection = await this.connectionService.require(tenantId, connectionId);
    // The webhooks go while the token still works.
    await this.realtime?.disconnecting(connection);
    const revoke = await this.vault.revokeAndDelete(connection.id);
    const before = connection.status;
    connection.status = 'disconnected';
    connection.statusReason = 'Disconnected by the user';
    connection.disconnectedAt = new Date();
    await this.connections.flush();
    await this.audit.record(auth, {
      tenantId,
      action: 'connection.disconnected',
      targetType: 'crm_connection',
      targetId: connection.id,
      before: { status: before },
      after: { status: 'disconnected', revokedAtCrm: revoke.revokedAtCrm },
    });
    return { status: 'disconnected', ...revoke };
  }

  private respond(res: Response, state: VerifiedState, connection: CrmConnection): void {
    const name = this.registry.get(connection.provider).capabilities().displayName;
    if (state.returnTo) {
      const target = new URL(state.returnTo);
      target.searchParams.set('connectionId', connection.id);
      target.searchParams.set('status', 'connected');
      res.redirect(302, target.toString());
      return;
    }
    res
      .status(200)
      .type('html')
      .send(
        renderOAuthResultPage({
          ok: true,
          message: `Connected to ${name}${connection.crmAccountName ? ` (${connection.crmAccountName})` : ''}. You can close this window.`,
        }),
      );
  }

  private allowedReturn(returnTo: string): boolean {
    const allowed = this.options.allowedReturnOrigins ?? [new URL(this.options.publicUrl).origin];
    return allowed.includes(new URL(returnTo).origin);
  }
}
