/** OAuth 2.0: the authorization code grant and the tokens it yields. */

export interface AuthorizeUrlRequest {
  state: string;
  redirectUri: string;
  scopes?: string[];
  /** S256 code challenge, sent only where the CRM supports PKCE. */
  codeChallenge?: string;
}

export interface CodeExchangeRequest {
  code: string;
  redirectUri: string;
  codeVerifier?: string;
}

export interface TokenSet {
  accessToken: string;
  /** Absent when the CRM keeps the old refresh token (Zoho) — the vault then keeps the one it has. */
  refreshToken?: string;
  expiresAt?: Date;
  scope?: string;
  instanceUrl?: string;
  /** The CRM account (org, portal, company) the tokens belong to. */
  account: { id: string; name?: string; userId?: string };
}
