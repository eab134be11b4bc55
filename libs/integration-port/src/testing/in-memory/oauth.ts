import type { AuthorizeUrlRequest } from '../../types';

/** The CRM's consent-page URL for `request`, with a PKCE challenge when one is given. */
export function buildAuthorizeUrl(
  authorizeUrl: string,
  clientId: string,
  defaultScopes: string[],
  request: AuthorizeUrlRequest,
): string {
  const url = new URL(authorizeUrl);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', clientId);
  url.searchParams.set('redirect_uri', request.redirectUri);
  url.searchParams.set('scope', (request.scopes ?? defaultScopes).join(' '));
  url.searchParams.set('state', request.state);
  if (request.codeChallenge !== undefined) {
    url.searchParams.set('code_challenge', request.codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
  }
  return url.toString();
}
