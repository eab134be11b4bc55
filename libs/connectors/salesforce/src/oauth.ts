import { readTokenResponse } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  type AuthorizeUrlRequest,
  type CodeExchangeRequest,
  type TokenSet,
} from '@pm/integration-port';
import { OAuth2 } from 'jsforce';
import type { ResolvedSalesforceConfig } from './config';
import { toCrmError } from './errors';
import { SALESFORCE_HTTP_FACTS } from './http-facts';
import { ObservingTransport } from './transport';

/**
 * OAuth 2.0 web server flow against the configured login host ("OAuth 2.0 Web Server Flow for Web App
 * Integration", Salesforce Help), with jsforce's OAuth2 client for the token and revoke calls.
 */

/** The token endpoint's answer (`access_token`, `instance_url`, `id` = identity URL, `issued_at` ms, ...). */
interface SalesforceTokenResponse extends Record<string, unknown> {
  access_token?: string;
  refresh_token?: string;
  instance_url?: string;
  id?: string;
  scope?: string;
  issued_at?: string;
}

export class SalesforceOAuth {
  constructor(private readonly config: ResolvedSalesforceConfig) {}

  /** `{loginUrl}/services/oauth2/authorize?response_type=code&...`; Salesforce supports PKCE with S256 only. */
  buildAuthorizeUrl(request: AuthorizeUrlRequest): string {
    const url = new URL(`${this.config.loginUrl}/services/oauth2/authorize`);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('redirect_uri', request.redirectUri);
    url.searchParams.set('scope', (request.scopes ?? this.config.defaultScopes).join(' '));
    url.searchParams.set('state', request.state);
    if (request.codeChallenge !== undefined) {
      url.searchParams.set('code_challenge', request.codeChallenge);
      url.searchParams.set('code_challenge_method', 'S256');
    }
    return url.toString();
  }

  async exchangeCode(request: CodeExchangeRequest): Promise<TokenSet> {
    const { oauth2, transport } = this.client(request.redirectUri);
    try {
      const body = (await oauth2.requestToken(
        request.code,
        request.codeVerifier !== undefined ? { code_verifier: request.codeVerifier } : {},
      )) as SalesforceTokenResponse;
      return this.tokenSet(body);
    } catch (error) {
      throw toCrmError(error, { response: transport.lastResponse, secrets: [request.code] });
    }
  }

  /**
   * Refresh grant. Salesforce keeps the refresh token unless the connected app rotates it; the answer then omits
   * `refresh_token` and the vault keeps the one it has. A revoked or expired refresh token is `invalid_grant`.
   */
  async refreshTokens(refreshToken: string): Promise<TokenSet> {
    const { oauth2, transport } = this.client();
    try {
      return this.tokenSet((await oauth2.refreshToken(refreshToken)) as SalesforceTokenResponse);
    } catch (error) {
      throw toCrmError(error, { response: transport.lastResponse, secrets: [refreshToken] });
    }
  }

  /** `POST {loginUrl}/services/oauth2/revoke`: revoking a refresh token ends its sessions too. */
  async revokeToken(token: string): Promise<void> {
    const { oauth2, transport } = this.client();
    try {
      await oauth2.revokeToken(token);
    } catch (error) {
      throw toCrmError(error, { response: transport.lastResponse, secrets: [token] });
    }
  }

  private client(redirectUri?: string): { oauth2: OAuth2; transport: ObservingTransport } {
    const oauth2 = new OAuth2({
      clientId: this.config.clientId,
      clientSecret: this.config.clientSecret,
      loginUrl: this.config.loginUrl,
      ...(redirectUri !== undefined ? { redirectUri } : {}),
    });
    const transport = new ObservingTransport(this.config.timeoutMs);
    oauth2._transport = transport;
    return { oauth2, transport };
  }

  private tokenSet(body: SalesforceTokenResponse): TokenSet {
    const tokens = readTokenResponse(SALESFORCE_HTTP_FACTS, body, Date.now(), this.config.allowedApiHosts);
    // The identity URL ends in /id/{orgId}/{userId}: the org is the CRM account.
    const identity = /\/id\/([A-Za-z0-9]{15,18})\/([A-Za-z0-9]{15,18})\/?$/.exec(body.id ?? '');
    if (!identity || !tokens.instanceUrl) {
      throw new CrmError(
        CrmErrorCode.UNKNOWN,
        'The Salesforce token response has no identity URL or instance_url',
        { provider: 'salesforce' },
      );
    }
    return { ...tokens, account: { id: identity[1], userId: identity[2] } };
  }
}
