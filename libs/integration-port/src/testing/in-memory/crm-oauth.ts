import { createHash, randomBytes } from 'node:crypto';
import { CrmError, CrmErrorCode } from '../../errors';
import type { CodeExchangeRequest, TokenSet } from '../../types';
import { IN_MEMORY_PROVIDER } from './provider';

const ACCESS_TOKEN_TTL_MS = 3_600_000;

interface PendingCode {
  redirectUri: string;
  scopes: string[];
  codeChallenge?: string;
}

/** The in-memory CRM's OAuth server: one-time codes with PKCE, hour-long access tokens, rotating refresh tokens. */
export class InMemoryCrmAuth {
  private readonly codes = new Map<string, PendingCode>();
  private readonly accessTokens = new Map<string, number>();
  private readonly refreshTokens = new Set<string>();

  constructor(
    private readonly clientId: string,
    /** Read at each exchange, as the CRM answers for whichever account signed in (a test may switch it). */
    private readonly accountId: () => string,
    private readonly clock: () => Date,
  ) {}

  /**
   * What the CRM's consent page does when the user clicks "Allow": checks the authorize URL's client and returns a
   * one-time code for its redirect URI.
   */
  approveAuthorization(authorizeUrl: string): { code: string; state: string | null; redirectUri: string } {
    const url = new URL(authorizeUrl);
    if (url.searchParams.get('client_id') !== this.clientId) {
      throw new CrmError(CrmErrorCode.PERMISSION_DENIED, 'invalid_client: unknown client_id', {
        provider: IN_MEMORY_PROVIDER,
      });
    }
    const redirectUri = url.searchParams.get('redirect_uri');
    if (!redirectUri) {
      throw new CrmError(CrmErrorCode.VALIDATION_FAILED, 'invalid_request: redirect_uri is required', {
        provider: IN_MEMORY_PROVIDER,
      });
    }
    const code = randomBytes(16).toString('hex');
    this.codes.set(code, {
      redirectUri,
      scopes: (url.searchParams.get('scope') ?? '').split(' ').filter(Boolean),
      codeChallenge: url.searchParams.get('code_challenge') ?? undefined,
    });
    return { code, state: url.searchParams.get('state'), redirectUri };
  }

  exchangeCode(request: CodeExchangeRequest): TokenSet {
    const pending = this.codes.get(request.code);
    this.codes.delete(request.code);
    if (!pending) throw invalidGrant('authorization code is invalid or was already used');
    if (pending.redirectUri !== request.redirectUri)
      throw invalidGrant('redirect_uri does not match the authorization request');
    if (pending.codeChallenge !== undefined) {
      const computed =
        request.codeVerifier && createHash('sha256').update(request.codeVerifier).digest('base64url');
      if (computed !== pending.codeChallenge)
        throw invalidGrant('code_verifier does not match the code_challenge');
    }
    return this.issueTokens(pending.scopes);
  }

  refresh(refreshToken: string): TokenSet {
    if (!this.refreshTokens.delete(refreshToken))
      throw invalidGrant('refresh token is invalid, expired or revoked');
    return this.issueTokens([]);
  }

  revoke(token: string): void {
    this.accessTokens.delete(token);
    this.refreshTokens.delete(token);
  }

  /** Makes an access token expire now, as if its hour had passed. */
  expireAccessToken(token: string): void {
    if (this.accessTokens.has(token)) this.accessTokens.set(token, 0);
  }

  /** Throws AUTH_EXPIRED unless `token` is a live access token. */
  authenticate(token: string): void {
    const expiresAt = this.accessTokens.get(token);
    if (expiresAt === undefined || expiresAt <= this.clock().getTime()) {
      throw new CrmError(CrmErrorCode.AUTH_EXPIRED, 'Session expired or invalid', {
        status: 401,
        crmCode: 'INVALID_SESSION_ID',
        provider: IN_MEMORY_PROVIDER,
      });
    }
  }

  private issueTokens(scopes: string[]): TokenSet {
    const accessToken = `imat-${randomBytes(16).toString('hex')}`;
    const refreshToken = `imrt-${randomBytes(16).toString('hex')}`;
    const expiresAt = new Date(this.clock().getTime() + ACCESS_TOKEN_TTL_MS);
    this.accessTokens.set(accessToken, expiresAt.getTime());
    this.refreshTokens.add(refreshToken);
    return {
      accessToken,
      refreshToken,
      expiresAt,
      scope: scopes.join(' ') || undefined,
      account: { id: this.accountId(), name: 'In-memory CRM account' },
    };
  }
}

function invalidGrant(description: string): CrmError {
  return new CrmError(CrmErrorCode.AUTH_REVOKED, `invalid_grant: ${description}`, {
    status: 400,
    crmCode: 'invalid_grant',
    provider: IN_MEMORY_PROVIDER,
  });
}
