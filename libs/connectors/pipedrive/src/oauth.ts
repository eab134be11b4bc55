import { readTokenResponse } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  type AuthorizeUrlRequest,
  type CodeExchangeRequest,
  type TokenSet,
} from '@pm/integration-port';
import type { ResolvedPipedriveConfig } from './config';
import type { PipedriveHttpClient } from './client';
import { PIPEDRIVE_HTTP_FACTS, PIPEDRIVE_PROVIDER } from './http-facts';

/**
 * Pipedrive OAuth 2.0 (https://pipedrive.readme.io/docs/marketplace-oauth-authorization): authorize at
 * `{oauth}/oauth/authorize?client_id&redirect_uri&state` (scopes are fixed on the app, no PKCE); the token endpoint
 * takes HTTP Basic client authentication and answers `{access_token, refresh_token, expires_in, scope, api_domain}`,
 * where `api_domain` is the company's API base (the session's instanceUrl). The account is the company:
 * `GET {api_domain}/api/v1/users/me` → `company_id`, as Pipedrive recommends for identifying installations.
 */

interface CurrentUser {
  id?: number;
  name?: string;
  company_id?: number;
  company_name?: string;
}

export class PipedriveOAuth {
  constructor(
    private readonly config: ResolvedPipedriveConfig,
    private readonly http: PipedriveHttpClient,
  ) {}

  buildAuthorizeUrl(request: AuthorizeUrlRequest): string {
    const url = new URL(`${this.config.oauthBaseUrl}/oauth/authorize`);
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('redirect_uri', request.redirectUri);
    url.searchParams.set('state', request.state);
    return url.toString();
  }

  async exchangeCode(request: CodeExchangeRequest): Promise<TokenSet> {
    const body = await this.http.token({
      grant_type: 'authorization_code',
      code: request.code,
      redirect_uri: request.redirectUri,
    });
    const tokens = this.readTokens(body);
    const me = await this.http.api<CurrentUser>(
      { connectionId: 'oauth-exchange', accessToken: tokens.accessToken, instanceUrl: tokens.instanceUrl },
      { method: 'GET', path: '/api/v1/users/me' },
    );
    if (me.data?.company_id === undefined) {
      throw new CrmError(CrmErrorCode.UNKNOWN, 'Pipedrive /users/me did not name the company', {
        provider: PIPEDRIVE_PROVIDER,
      });
    }
    return {
      ...tokens,
      account: {
        id: String(me.data.company_id),
        name: me.data.company_name,
        userId: me.data.id === undefined ? undefined : String(me.data.id),
      },
    };
  }

  /**
   * A refresh makes no other call: if anything after the token endpoint failed, a rotated refresh token would be
   * lost. The account id comes from the token's `<company_id>:<user_id>:` prefix (Pipedrive's token format), else the
   * API domain; the vault keeps the account stored at connect time either way.
   */
  async refreshTokens(refreshToken: string, previous?: { instanceUrl?: string }): Promise<TokenSet> {
    const body = await this.http.token({ grant_type: 'refresh_token', refresh_token: refreshToken });
    const tokens = this.readTokens(body, previous?.instanceUrl);
    const prefix = /^(\d+):(\d+):/.exec(tokens.accessToken);
    return {
      ...tokens,
      account: prefix
        ? { id: prefix[1], userId: prefix[2] }
        : { id: tokens.instanceUrl ?? this.config.apiBaseUrl },
    };
  }

  async revokeToken(token: string): Promise<void> {
    // The vault hands the refresh token when it has one; revoking it ends the installation's access tokens too.
    await this.http.revoke(token, 'refresh_token');
  }

  private readTokens(body: Record<string, unknown>, fallbackInstanceUrl?: string): Omit<TokenSet, 'account'> {
    let tokens: Omit<TokenSet, 'account'>;
    try {
      tokens = readTokenResponse(PIPEDRIVE_HTTP_FACTS, body, Date.now(), this.config.allowedApiHosts);
    } catch (error) {
      if (error instanceof CrmError) throw error;
      throw new CrmError(CrmErrorCode.UNKNOWN, (error as Error).message, { provider: PIPEDRIVE_PROVIDER });
    }
    tokens.instanceUrl = (tokens.instanceUrl ?? fallbackInstanceUrl ?? this.config.apiBaseUrl).replace(
      /\/+$/,
      '',
    );
    return tokens;
  }
}
