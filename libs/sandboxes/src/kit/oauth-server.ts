import { createHash, randomBytes } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { SandboxClock } from './clock';

/**
 * An OAuth 2.0 authorization server (RFC 6749 authorization-code and refresh-token grants, RFC 7636 PKCE,
 * RFC 7009 revocation) that each CRM sandbox configures with its own paths, client authentication and token
 * response fields. The authorize page is a real HTML form, so a browser (or `approveAuthorization()` in tests)
 * can go through the consent step.
 */

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'unsupported_token_type';

export type ClientAuthMethod = 'body' | 'basic' | 'both';

/** The CRM account (org, portal, company) that a user authorizes; tokens and rate limits are per account. */
export interface OAuthAccount {
  id: string;
  name: string;
  userId: string;
  userName?: string;
  userEmail?: string;
}

/** What the CRM hook `tokenResponse` gets to build the token endpoint's body. */
export interface TokenGrant {
  grantType: 'authorization_code' | 'refresh_token' | 'direct';
  accessToken: string;
  /** The refresh token valid after this grant (the old one when not rotated). */
  refreshToken: string;
  /** True when this grant created `refreshToken` (code grant, direct issue, or rotation). */
  refreshTokenIssued: boolean;
  expiresInSeconds: number;
  scopes: string[];
  clientId: string;
  account: OAuthAccount;
  issuedAt: Date;
}

export interface OAuthErrorReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface OAuthServerConfig {
  clientId: string;
  clientSecret: string;
  /** Shown on the authorize page ("<crmName> sandbox"). */
  crmName: string;
  /** The connected app's name shown on the authorize page. */
  appName?: string;
  accessTokenTtlSeconds: number;
  /** Refresh tokens never expire when omitted (Salesforce default, HubSpot). */
  refreshTokenTtlSeconds?: number;
  /** Authorization codes live this long (default 600). */
  codeTtlSeconds?: number;
  supportsPkce: boolean;
  /** Refuse authorize requests without a code_challenge (only when supportsPkce). */
  requirePkce?: boolean;
  authorizePath: string;
  tokenPath: string;
  /** Mounted as POST (token in form body or query); omit and call revokeToken() from a CRM route instead. */
  revokePath?: string;
  clientAuth: ClientAuthMethod;
  /** Issue a new refresh token on every refresh and invalidate the old one (Pipedrive keeps it; off by default). */
  rotateRefreshTokens?: boolean;
  /** Allowed redirect URIs; any is accepted when omitted (demo mode). The first is used when none is sent. */
  redirectUris?: string[];
  /** Scopes granted when the client asks for none. */
  defaultScopes?: string[];
  /** Scope separator in requests and responses (space by default; some CRMs use comma). */
  scopeSeparator?: string;
  /** Accounts a user can pick on the authorize page; one demo account when omitted. */
  accounts?: OAuthAccount[];
  /** CRM-specific token formats. */
  generateAccessToken?: (account: OAuthAccount) => string;
  generateRefreshToken?: (account: OAuthAccount) => string;
  /** Body of a successful token response; the RFC 6749 shape by default. */
  tokenResponse?: (grant: TokenGrant) => object;
  /** Body and status of a token-endpoint error; `{error, error_description}` with `defaultStatus` by default. */
  errorResponse?: (code: OAuthErrorCode, description: string, defaultStatus: number) => OAuthErrorReply;
  /** Reply to a successful revocation; 200 with an empty body by default. */
  revokeResponse?: () => OAuthErrorReply;
}

export interface TokenInfo {
  accessToken: string;
  refreshToken?: string;
  clientId: string;
  account: OAuthAccount;
  scopes: string[];
  issuedAt: Date;
  expiresAt: Date;
}

export type AuthenticationResult = TokenInfo | 'expired' | 'invalid';

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  account: OAuthAccount;
  /** The token endpoint body the CRM would have returned for these tokens. */
  response: object;
}

export interface IssueTokensOptions {
  accountId?: string;
  scopes?: string[];
  /** Overrides the access token lifetime for this grant. */
  accessTokenTtlSeconds?: number;
}

interface AccessTokenRecord {
  token: string;
  clientId: string;
  account: OAuthAccount;
  scopes: string[];
  issuedAtMs: number;
  expiresAtMs: number;
  refreshToken?: string;
  revoked: boolean;
}

interface RefreshTokenRecord {
  token: string;
  clientId: string;
  account: OAuthAccount;
  scopes: string[];
  issuedAtMs: number;
  expiresAtMs?: number;
  revoked: boolean;
}

interface AuthorizationCodeRecord {
  code: string;
  clientId: string;
  /** The redirect_uri sent to the authorize endpoint, if one was sent (then the token request must repeat it). */
  redirectUri?: string;
  scopes: string[];
  account: OAuthAccount;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  expiresAtMs: number;
  used: boolean;
  /** Tokens issued from this code, revoked if the code is replayed (RFC 6749 §4.1.2). */
  issuedAccessToken?: string;
  issuedRefreshToken?: string;
}

/** What `OAuthServer.snapshot()` returns and `restore()` takes (JSON-safe). */
export interface OAuthSnapshot {
  codes: AuthorizationCodeRecord[];
  accessTokens: AccessTokenRecord[];
  refreshTokens: RefreshTokenRecord[];
}

class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly status = code === 'invalid_client' ? 401 : 400,
  ) {
    super(description);
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function pkceChallenge(verifier: string, method: 'S256' | 'plain' = 'S256'): string {
  return method === 'plain' ? verifier : createHash('sha256').update(verifier).digest('base64url');
}

/**
 * A test run may ask to hear of every secret a sandbox hands out (tokens, codes, client secrets) by setting a
 * function under this global symbol: the suite's secret-hygiene scan then looks for each in every log line.
 */
export const ISSUED_SECRET_LISTENER = Symbol.for('pm.sandboxes.issuedSecret');

function reportIssued(secret: string): string {
  const listener = (globalThis as Record<symbol, unknown>)[ISSUED_SECRET_LISTENER];
  if (typeof listener === 'function') (listener as (secret: string) => void)(secret);
  return secret;
}

function randomToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

/** Reads a parameter from the parsed form/JSON body, falling back to the query string. */
function param(req: Request, name: string): string | undefined {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const fromBody = body[name];
  if (typeof fromBody === 'string') return fromBody;
  const fromQuery = req.query[name];
  return typeof fromQuery === 'string' ? fromQuery : undefined;
}

/** `Authorization: Basic base64(id:secret)` with RFC 6749 §2.3.1 form-encoding of both parts. */
export function parseBasicAuth(
  header: string | undefined,
): { username: string; password: string } | undefined {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text.replace(/\+/g, ' '));
    } catch {
      return text;
    }
  };
  return { username: decode(decoded.slice(0, colon)), password: decode(decoded.slice(colon + 1)) };
}

export function bearerToken(req: Request): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return match ? match[1].trim() : undefined;
}

export class OAuthServer {
  readonly config: Required<Pick<OAuthServerConfig, 'codeTtlSeconds' | 'scopeSeparator' | 'appName'>> &
    OAuthServerConfig;
  readonly accounts: OAuthAccount[];
  private readonly codes = new Map<string, AuthorizationCodeRecord>();
  private readonly accessTokens = new Map<string, AccessTokenRecord>();
  private readonly refreshTokens = new Map<string, RefreshTokenRecord>();

  constructor(
    config: OAuthServerConfig,
    private readonly clock: SandboxClock = new SandboxClock(),
  ) {
    this.config = { codeTtlSeconds: 600, scopeSeparator: ' ', appName: 'PenguinMails', ...config };
    reportIssued(config.clientSecret);
    this.accounts = config.accounts?.length
      ? config.accounts
      : [{ id: '1', name: `${config.crmName} demo company`, userId: '1', userName: 'Demo User' }];
  }

  get clientId(): string {
    return this.config.clientId;
  }

  get clientSecret(): string {
    return this.config.clientSecret;
  }

  /**
   * Registers the authorize (GET page, POST decision), token and revoke routes through `register`, normally
   * SandboxServer.route so the requests are counted.
   */
  mount(register: (method: 'get' | 'post', path: string, handler: RequestHandler) => void): void {
    register('get', this.config.authorizePath, (req, res) => this.handleAuthorizePage(req, res));
    register('post', this.config.authorizePath, (req, res) => this.handleAuthorizeDecision(req, res));
    register('post', this.config.tokenPath, (req, res) => this.handleToken(req, res));
    if (this.config.revokePath)
      register('post', this.config.revokePath, (req, res) => this.handleRevoke(req, res));
  }

  // ---------------------------------------------------------------------------------------------------------
  // API used by CRM routes and tests

  /** Checks a bearer token: its info, 'expired' (known but past expiry) or 'invalid' (unknown or revoked). */
  authenticate(bearer: string | undefined): AuthenticationResult {
    if (!bearer) return 'invalid';
    const record = this.accessTokens.get(bearer);
    if (!record || record.revoked) return 'invalid';
    if (record.expiresAtMs <= this.clock.nowMs()) return 'expired';
    return this.toTokenInfo(record);
  }

  /** `authenticate()` on the request's `Authorization: Bearer` header. */
  authenticateRequest(req: Request): AuthenticationResult {
    return this.authenticate(bearerToken(req));
  }

  /** Info about an access token whether or not it is still valid (HubSpot's GET /oauth/v1/access-tokens/{t}). */
  lookupAccessToken(token: string): (TokenInfo & { expired: boolean; revoked: boolean }) | undefined {
    const record = this.accessTokens.get(token);
    if (!record) return undefined;
    return {
      ...this.toTokenInfo(record),
      expired: record.expiresAtMs <= this.clock.nowMs(),
      revoked: record.revoked,
    };
  }

  lookupRefreshToken(
    token: string,
  ): { clientId: string; account: OAuthAccount; scopes: string[]; revoked: boolean } | undefined {
    const record = this.refreshTokens.get(token);
    return (
      record && {
        clientId: record.clientId,
        account: record.account,
        scopes: record.scopes,
        revoked: record.revoked,
      }
    );
  }

  /** Issues a token pair as if the user had gone through the consent page (tests that skip the browser). */
  issueTokensDirectly(options: IssueTokensOptions = {}): IssuedTokens {
    const account = this.account(options.accountId);
    const scopes = options.scopes ?? this.config.defaultScopes ?? [];
    const refresh = this.createRefreshToken(this.config.clientId, account, scopes);
    const access = this.createAccessToken(
      this.config.clientId,
      account,
      scopes,
      refresh.token,
      options.accessTokenTtlSeconds,
    );
    const response = this.buildTokenResponse('direct', access, refresh, true);
    return {
      accessToken: access.token,
      refreshToken: refresh.token,
      expiresAt: new Date(access.expiresAtMs),
      account,
      response,
    };
  }

  /** Makes every access token issued so far expired (the next API call gets the CRM's 401). */
  expireAllAccessTokens(): number {
    const now = this.clock.nowMs();
    let expired = 0;
    for (const record of this.accessTokens.values()) {
      if (record.expiresAtMs > now) {
        record.expiresAtMs = now;
        expired++;
      }
    }
    return expired;
  }

  /** Revokes every refresh token (the next refresh gets invalid_grant); access tokens keep working until expiry. */
  revokeAllRefreshTokens(): number {
    let revoked = 0;
    for (const record of this.refreshTokens.values()) {
      if (!record.revoked) {
        record.revoked = true;
        revoked++;
      }
    }
    return revoked;
  }

  /** Revokes every token of both kinds (the user uninstalled the app). */
  revokeAll(): void {
    this.revokeAllRefreshTokens();
    for (const record of this.accessTokens.values()) record.revoked = true;
  }

  /**
   * Revokes an access or refresh token (RFC 7009). Revoking a refresh token also revokes the access tokens issued
   * from it, as Salesforce and Pipedrive do. Returns false for an unknown token (which RFC 7009 still answers 200).
   */
  revokeToken(token: string): boolean {
    const refresh = this.refreshTokens.get(token);
    if (refresh) {
      refresh.revoked = true;
      for (const access of this.accessTokens.values())
        if (access.refreshToken === token) access.revoked = true;
      return true;
    }
    const access = this.accessTokens.get(token);
    if (access) {
      access.revoked = true;
      return true;
    }
    return false;
  }

  /**
   * Every code and token as plain JSON, and back: the demo mode keeps a sandbox's grants across a restart of the
   * service, so a connection made before it still refreshes after it.
   */
  snapshot(): OAuthSnapshot {
    return {
      codes: [...this.codes.values()],
      accessTokens: [...this.accessTokens.values()],
      refreshTokens: [...this.refreshTokens.values()],
    };
  }

  restore(snapshot: OAuthSnapshot): void {
    this.reset();
    for (const code of snapshot.codes) this.codes.set(code.code, code);
    for (const access of snapshot.accessTokens) this.accessTokens.set(access.token, access);
    for (const refresh of snapshot.refreshTokens) this.refreshTokens.set(refresh.token, refresh);
  }

  /** Forgets every code and token. */
  reset(): void {
    this.codes.clear();
    this.accessTokens.clear();
    this.refreshTokens.clear();
  }

  account(accountId?: string): OAuthAccount {
    if (accountId === undefined) return this.accounts[0];
    const account = this.accounts.find((a) => a.id === accountId);
    if (!account) throw new Error(`${this.config.crmName} sandbox: no account ${accountId}`);
    return account;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Authorize endpoint

  private validateAuthorizeRequest(req: Request):
    | {
        ok: true;
        clientId: string;
        redirectUri: string;
        redirectUriSent: boolean;
        scopes: string[];
        state?: string;
        codeChallenge?: string;
        codeChallengeMethod?: 'S256' | 'plain';
      }
    | { ok: false; status: number; message: string; redirect?: string } {
    const clientId = param(req, 'client_id');
    if (clientId !== this.config.clientId) return { ok: false, status: 400, message: 'Unknown client_id.' };
    const sentRedirect = param(req, 'redirect_uri');
    const redirectUri = sentRedirect ?? this.config.redirectUris?.[0];
    if (!redirectUri) return { ok: false, status: 400, message: 'Missing redirect_uri.' };
    if (this.config.redirectUris && !this.config.redirectUris.includes(redirectUri))
      return { ok: false, status: 400, message: 'redirect_uri does not match a registered callback URL.' };
    let parsedRedirect: URL;
    try {
      parsedRedirect = new URL(redirectUri);
    } catch {
      return { ok: false, status: 400, message: 'redirect_uri is not an absolute URL.' };
    }
    const state = param(req, 'state');
    const errorRedirect = (error: OAuthErrorCode, description: string) => {
      const url = new URL(parsedRedirect);
      url.searchParams.set('error', error);
      url.searchParams.set('error_description', description);
      if (state !== undefined) url.searchParams.set('state', state);
      return url.toString();
    };
    const responseType = param(req, 'response_type') ?? 'code';
    if (responseType !== 'code')
      return {
        ok: false,
        status: 302,
        message: 'Only response_type=code is supported.',
        redirect: errorRedirect('unsupported_response_type', 'response_type must be code'),
      };
    const codeChallenge = param(req, 'code_challenge');
    const method = param(req, 'code_challenge_method') ?? (codeChallenge ? 'plain' : undefined);
    if (codeChallenge !== undefined || method !== undefined) {
      if (!this.config.supportsPkce)
        return {
          ok: false,
          status: 302,
          message: 'PKCE is not supported.',
          redirect: errorRedirect('invalid_request', 'PKCE is not supported by this server'),
        };
      if (!codeChallenge || (method !== 'S256' && method !== 'plain'))
        return {
          ok: false,
          status: 302,
          message: 'Bad PKCE parameters.',
          redirect: errorRedirect('invalid_request', 'code_challenge_method must be S256 or plain'),
        };
    } else if (this.config.supportsPkce && this.config.requirePkce) {
      return {
        ok: false,
        status: 302,
        message: 'PKCE required.',
        redirect: errorRedirect('invalid_request', 'code_challenge is required'),
      };
    }
    const scopeParam = param(req, 'scope');
    const scopes = scopeParam ? this.splitScopes(scopeParam) : (this.config.defaultScopes ?? []);
    return {
      ok: true,
      clientId,
      redirectUri,
      redirectUriSent: sentRedirect !== undefined,
      scopes,
      state,
      codeChallenge,
      codeChallengeMethod: method as 'S256' | 'plain' | undefined,
    };
  }

  private handleAuthorizePage(req: Request, res: Response): void {
    const check = this.validateAuthorizeRequest(req);
    if (!check.ok) {
      if (check.redirect) return void res.redirect(302, check.redirect);
      return void res.status(check.status).type('html').send(this.errorPage(check.message));
    }
    const hidden: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: check.clientId,
      redirect_uri: check.redirectUriSent ? check.redirectUri : undefined,
      scope: param(req, 'scope'),
      state: check.state,
      code_challenge: check.codeChallenge,
      code_challenge_method: param(req, 'code_challenge_method'),
    };
    const inputs = Object.entries(hidden)
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
      .join('\n      ');
    const accountChoice =
      this.accounts.length > 1
        ? `<label>Account <select name="account_id">${this.accounts
            .map((a) => `<option value="${escapeHtml(a.id)}">${escapeHtml(a.name)}</option>`)
            .join('')}</select></label>`
        : `<input type="hidden" name="account_id" value="${escapeHtml(this.accounts[0].id)}">
      <p>Signed in as <b>${escapeHtml(this.accounts[0].userName ?? this.accounts[0].userId)}</b> (${escapeHtml(this.accounts[0].name)})</p>`;
    const scopeList = check.scopes.length
      ? `<ul>${check.scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>`
      : '<p>Basic access to your account.</p>';
    const crm = escapeHtml(this.config.crmName);
    const app = escapeHtml(this.config.appName);
    res.status(200).type('html').send(`<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>${crm} sandbox: authorize ${app}</title>
  <style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
  button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.5rem}.note{color:#666;font-size:.85rem}</style></head>
  <body>
    <h1>${crm} sandbox</h1>
    <p><b>${app}</b> wants to access your ${crm} account.</p>
    <h2>Requested access</h2>
    ${scopeList}
    <form method="post" action="${escapeHtml(this.config.authorizePath)}">
      ${inputs}
      ${accountChoice}
      <button type="submit" name="decision" value="allow" id="allow">Allow</button>
      <button type="submit" name="decision" value="deny" id="deny">Deny</button>
    </form>
    <p class="note">This is a local sandbox, not the real ${crm}.</p>
  </body>
</html>`);
  }

  private handleAuthorizeDecision(req: Request, res: Response): void {
    const check = this.validateAuthorizeRequest(req);
    if (!check.ok) {
      if (check.redirect) return void res.redirect(302, check.redirect);
      return void res.status(check.status).type('html').send(this.errorPage(check.message));
    }
    const target = new URL(check.redirectUri);
    if (param(req, 'decision') !== 'allow') {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set('error_description', 'The user denied access to your application');
    } else {
      let account: OAuthAccount;
      try {
        account = this.account(param(req, 'account_id'));
      } catch {
        return void res.status(400).type('html').send(this.errorPage('Unknown account.'));
      }
      const code = reportIssued(randomToken(18));
      this.codes.set(code, {
        code,
        clientId: check.clientId,
        redirectUri: check.redirectUriSent ? check.redirectUri : undefined,
        scopes: check.scopes,
        account,
        codeChallenge: check.codeChallenge,
        codeChallengeMethod: check.codeChallengeMethod,
        expiresAtMs: this.clock.nowMs() + this.config.codeTtlSeconds * 1000,
        used: false,
      });
      target.searchParams.set('code', code);
    }
    if (check.state !== undefined) target.searchParams.set('state', check.state);
    res.redirect(302, target.toString());
  }

  private errorPage(message: string): string {
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Authorization error</title></head><body><h1>${escapeHtml(this.config.crmName)} sandbox</h1><p>${escapeHtml(message)}</p></body></html>`;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Token and revoke endpoints

  private handleToken(req: Request, res: Response): void {
    res.setHeader('cache-control', 'no-store');
    res.setHeader('pragma', 'no-cache');
    try {
      const clientId = this.authenticateClient(req);
      const grantType = param(req, 'grant_type');
      let body: object;
      if (grantType === 'authorization_code') body = this.codeGrant(req, clientId);
      else if (grantType === 'refresh_token') body = this.refreshGrant(req, clientId);
      else if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
      else throw new OAuthError('unsupported_grant_type', `grant type not supported: ${grantType}`);
      res.status(200).json(body);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      const reply = this.config.errorResponse
        ? this.config.errorResponse(error.code, error.description, error.status)
        : { status: error.status, body: { error: error.code, error_description: error.description } };
      for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
      if (
        error.code === 'invalid_client' &&
        this.config.clientAuth !== 'body' &&
        !reply.headers?.['www-authenticate']
      )
        res.setHeader('www-authenticate', 'Basic realm="oauth"');
      res.status(reply.status).json(reply.body);
    }
  }

  private authenticateClient(req: Request): string {
    const basic = parseBasicAuth(req.headers.authorization);
    const bodyId = param(req, 'client_id');
    const bodySecret = param(req, 'client_secret');
    const mode = this.config.clientAuth;
    let id: string | undefined;
    let secret: string | undefined;
    if (basic && mode !== 'body') ({ username: id, password: secret } = basic);
    else if (bodyId !== undefined && mode !== 'basic') [id, secret] = [bodyId, bodySecret];
    else if (mode === 'basic')
      throw new OAuthError('invalid_client', 'Client authentication via HTTP Basic is required');
    else throw new OAuthError('invalid_client', 'client_id is required');
    if (id !== this.config.clientId || secret !== this.config.clientSecret)
      throw new OAuthError('invalid_client', 'invalid client credentials');
    return id;
  }

  private codeGrant(req: Request, clientId: string): object {
    const codeValue = param(req, 'code');
    if (!codeValue) throw new OAuthError('invalid_request', 'code is required');
    const code = this.codes.get(codeValue);
    if (!code || code.clientId !== clientId)
      throw new OAuthError('invalid_grant', 'invalid authorization code');
    if (code.used) {
      // A replayed code means it leaked: revoke what it produced (RFC 6749 §4.1.2).
      if (code.issuedRefreshToken) this.revokeToken(code.issuedRefreshToken);
      if (code.issuedAccessToken) this.revokeToken(code.issuedAccessToken);
      throw new OAuthError('invalid_grant', 'authorization code has already been used');
    }
    code.used = true;
    if (code.expiresAtMs <= this.clock.nowMs())
      throw new OAuthError('invalid_grant', 'authorization code expired');
    const redirectUri = param(req, 'redirect_uri');
    if (code.redirectUri !== undefined && redirectUri !== code.redirectUri)
      throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
    if (code.codeChallenge !== undefined) {
      const verifier = param(req, 'code_verifier');
      if (!verifier) throw new OAuthError('invalid_grant', 'code_verifier is required');
      if (pkceChallenge(verifier, code.codeChallengeMethod) !== code.codeChallenge)
        throw new OAuthError('invalid_grant', 'invalid code verifier');
    }
    const refresh = this.createRefreshToken(clientId, code.account, code.scopes);
    const access = this.createAccessToken(clientId, code.account, code.scopes, refresh.token);
    code.issuedAccessToken = access.token;
    code.issuedRefreshToken = refresh.token;
    return this.buildTokenResponse('authorization_code', access, refresh, true);
  }

  private refreshGrant(req: Request, clientId: string): object {
    const tokenValue = param(req, 'refresh_token');
    if (!tokenValue) throw new OAuthError('invalid_request', 'refresh_token is required');
    const refresh = this.refreshTokens.get(tokenValue);
    if (!refresh || refresh.revoked || refresh.clientId !== clientId)
      throw new OAuthError('invalid_grant', 'invalid refresh token');
    if (refresh.expiresAtMs !== undefined && refresh.expiresAtMs <= this.clock.nowMs())
      throw new OAuthError('invalid_grant', 'refresh token expired');
    let current = refresh;
    let issued = false;
    if (this.config.rotateRefreshTokens) {
      refresh.revoked = true;
      current = this.createRefreshToken(clientId, refresh.account, refresh.scopes);
      issued = true;
    }
    const access = this.createAccessToken(clientId, current.account, current.scopes, current.token);
    return this.buildTokenResponse('refresh_token', access, current, issued);
  }

  private handleRevoke(req: Request, res: Response): void {
    const token = param(req, 'token');
    if (!token) {
      const reply = this.config.errorResponse
        ? this.config.errorResponse('invalid_request', 'token is required', 400)
        : { status: 400, body: { error: 'invalid_request', error_description: 'token is required' } };
      return void res.status(reply.status).json(reply.body);
    }
    this.revokeToken(token);
    const reply = this.config.revokeResponse?.() ?? { status: 200, body: undefined };
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
    if (reply.body === undefined) res.status(reply.status).end();
    else res.status(reply.status).json(reply.body);
  }

  // ---------------------------------------------------------------------------------------------------------

  private createRefreshToken(clientId: string, account: OAuthAccount, scopes: string[]): RefreshTokenRecord {
    const token = reportIssued(this.config.generateRefreshToken?.(account) ?? `sbx-rt-${randomToken()}`);
    const issuedAtMs = this.clock.nowMs();
    const ttl = this.config.refreshTokenTtlSeconds;
    const record: RefreshTokenRecord = {
      token,
      clientId,
      account,
      scopes,
      issuedAtMs,
      expiresAtMs: ttl === undefined ? undefined : issuedAtMs + ttl * 1000,
      revoked: false,
    };
    this.refreshTokens.set(token, record);
    return record;
  }

  private createAccessToken(
    clientId: string,
    account: OAuthAccount,
    scopes: string[],
    refreshToken: string | undefined,
    ttlSeconds = this.config.accessTokenTtlSeconds,
  ): AccessTokenRecord {
    const token = reportIssued(this.config.generateAccessToken?.(account) ?? `sbx-at-${randomToken()}`);
    const issuedAtMs = this.clock.nowMs();
    const record: AccessTokenRecord = {
      token,
      clientId,
      account,
      scopes,
      issuedAtMs,
      expiresAtMs: issuedAtMs + ttlSeconds * 1000,
      refreshToken,
      revoked: false,
    };
    this.accessTokens.set(token, record);
    return record;
  }

  private buildTokenResponse(
    grantType: TokenGrant['grantType'],
    access: AccessTokenRecord,
    refresh: RefreshTokenRecord,
    refreshTokenIssued: boolean,
  ): object {
    const grant: TokenGrant = {
      grantType,
      accessToken: access.token,
      refreshToken: refresh.token,
      refreshTokenIssued,
      expiresInSeconds: Math.round((access.expiresAtMs - access.issuedAtMs) / 1000),
      scopes: access.scopes,
      clientId: access.clientId,
      account: access.account,
      issuedAt: new Date(access.issuedAtMs),
    };
    if (this.config.tokenResponse) return this.config.tokenResponse(grant);
    return {
      access_token: grant.accessToken,
      token_type: 'Bearer',
      expires_in: grant.expiresInSeconds,
      refresh_token: grant.refreshToken,
      scope: grant.scopes.join(this.config.scopeSeparator),
    };
  }

  private splitScopes(scope: string): string[] {
    return scope
      .split(this.config.scopeSeparator === ' ' ? /[\s+]+/ : this.config.scopeSeparator)
      .map((s) => s.trim())
      .filter(Boolean);
  }

  private toTokenInfo(record: AccessTokenRecord): TokenInfo {
    return {
      accessToken: record.token,
      refreshToken: record.refreshToken,
      clientId: record.clientId,
      account: record.account,
      scopes: record.scopes,
      issuedAt: new Date(record.issuedAtMs),
      expiresAt: new Date(record.expiresAtMs),
    };
  }
}
