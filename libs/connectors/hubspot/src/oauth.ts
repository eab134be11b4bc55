import type { HttpFacts } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  type AuthorizeUrlRequest,
  type CodeExchangeRequest,
  type TokenSet,
} from '@pm/integration-port';
import { HubSpotCall } from './client';
import {
  HUBSPOT_AUTHORIZE_URL,
  HUBSPOT_DEFAULT_SCOPES,
  HUBSPOT_PROVIDER,
  type HubSpotConnectorConfig,
} from './config';

/**
 * HubSpot OAuth 2.0 (developers.hubspot.com/docs/api/oauth-quickstart-guide): the consent page on app.hubspot.com,
 * the token endpoint `POST /oauth/v1/token` (form, client secret in the body), token metadata
 * `GET /oauth/v1/access-tokens/{t}` (the portal: hub_id), and revocation `DELETE /oauth/v1/refresh-tokens/{t}`.
 * Refresh tokens do not rotate.
 */
export class HubSpotOAuth {
  constructor(
    private readonly config: HubSpotConnectorConfig,
    private readonly facts: HttpFacts,
  ) {}

  /** Built by hand: the SDK's `getAuthorizationUrl` is hard-wired to app.hubspot.com. */
  buildAuthorizeUrl(request: AuthorizeUrlRequest): string {
    const url = new URL(this.config.authorizeUrl ?? HUBSPOT_AUTHORIZE_URL);
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('redirect_uri', request.redirectUri);
    url.searchParams.set('scope', (request.scopes ?? this.config.scopes ?? HUBSPOT_DEFAULT_SCOPES).join(' '));
    if (this.config.optionalScopes?.length) {
      url.searchParams.set('optional_scope', this.config.optionalScopes.join(' '));
    }
    url.searchParams.set('state', request.state);
    return url.toString();
  }

  async exchangeCode(request: CodeExchangeRequest): Promise<TokenSet> {
    const call = new HubSpotCall(this.config, this.facts);
    const tokens = await call.run(
      () =>
        call.oauth.tokensApi.create(
          'authorization_code',
          request.code,
          request.redirectUri,
          this.config.clientId,
          this.config.clientSecret,
          undefined,
          call.options,
        ),
      'token-exchange',
    );
    return this.tokenSet(tokens);
  }

  async refreshTokens(refreshToken: string): Promise<TokenSet> {
    const call = new HubSpotCall(this.config, this.facts);
    const tokens = await call.run(
      () =>
        call.oauth.tokensApi.create(
          'refresh_token',
          undefined,
          undefined,
          this.config.clientId,
          this.config.clientSecret,
          refreshToken,
          call.options,
        ),
      'token-refresh',
    );
    // HubSpot keeps the refresh token; it sends it back, but keep ours if it ever does not.
    return this.tokenSet({ ...tokens, refreshToken: tokens.refreshToken || refreshToken });
  }

  /**
   * Revokes a refresh token (and with it its access tokens). HubSpot has no endpoint to revoke an access token
   * alone; a token HubSpot does not know (404) is already as revoked as it can be.
   */
  async revokeToken(token: string): Promise<void> {
    const call = new HubSpotCall(this.config, this.facts);
    try {
      await call.run(() => call.oauth.refreshTokensApi.archive(token, call.options), 'token-revoke');
    } catch (error) {
      if (CrmError.is(error, CrmErrorCode.NOT_FOUND)) return;
      throw error;
    }
  }

  /** The token answer plus the portal it belongs to (one metadata call: the token answer does not name it). */
  private async tokenSet(tokens: {
    accessToken: string;
    refreshToken: string;
    expiresIn: number;
  }): Promise<TokenSet> {
    const call = new HubSpotCall(this.config, this.facts);
    const info = await call.run(
      () => call.oauth.accessTokensApi.get(tokens.accessToken, call.options),
      'token-exchange',
    );
    if (info.hubId === undefined || info.hubId === null) {
      throw new CrmError(CrmErrorCode.UNKNOWN, 'HubSpot token metadata names no portal (hub_id)', {
        provider: HUBSPOT_PROVIDER,
      });
    }
    const tokenSet: TokenSet = {
      accessToken: tokens.accessToken,
      account: {
        id: String(info.hubId),
        ...(info.hubDomain ? { name: info.hubDomain } : {}),
        ...(info.userId !== undefined ? { userId: String(info.userId) } : {}),
      },
    };
    if (tokens.refreshToken) tokenSet.refreshToken = tokens.refreshToken;
    if (Number.isFinite(tokens.expiresIn) && tokens.expiresIn > 0) {
      tokenSet.expiresAt = new Date(Date.now() + tokens.expiresIn * 1000);
    }
    if (info.scopes?.length) tokenSet.scope = info.scopes.join(' ');
    return tokenSet;
  }
}
