import { PassportStrategy } from '@nestjs/passport';
import type { IntegrationPort, TokenSet } from '@pm/integration-port';
import { Strategy as OAuth2Strategy, type StateStore } from 'passport-oauth2';
import type { OAuthStateStore, VerifiedState } from './oauth-state.store';

export const strategyName = (provider: string) => `crm-oauth-${provider}`;

/** What the strategy's verify step produces for the callback: the state that was consumed and the tokens. */
export interface OAuthCallbackResult {
  state: VerifiedState;
  tokens: TokenSet;
}

type NodeOAuth2Callback = (
  error: unknown,
  accessToken?: string,
  refreshToken?: string,
  params?: unknown,
) => void;

/**
 * A passport-oauth2 strategy for one CRM, registered with passport through @nestjs/passport. Passport runs the
 * callback: it refuses `error=access_denied`, verifies `state` against our PostgreSQL store (which also yields
 * the PKCE verifier), and calls verify. The code exchange itself is the connector's (`exchangeCode`, done with the
 * CRM's official SDK), because each CRM shapes its token response differently (Salesforce instance_url,
 * Pipedrive api_domain, HubSpot's portal lookup).
 */
export function createCrmOAuthStrategy(port: IntegrationPort, store: OAuthStateStore, callbackURL: string) {
  // passport-oauth2 insists on these URLs; they are the CRM's, taken from the connector's authorize URL.
  const authorizationURL = port
    .buildAuthorizeUrl({ state: 'unused', redirectUri: callbackURL })
    .split('?')[0];

  class CrmOAuthStrategy extends PassportStrategy(OAuth2Strategy, strategyName(port.provider), 6) {
    constructor() {
      super({
        authorizationURL,
        tokenURL: authorizationURL,
        // The client id and secret are the connector's configuration; passport never sends them.
        clientID: port.provider,
        clientSecret: 'held-by-the-connector',
        callbackURL,
        store: store.forPassport(port.provider) as unknown as StateStore,
        passReqToCallback: true,
      });
      const oauth2 = (this as unknown as { _oauth2: { getOAuthAccessToken: unknown } })._oauth2;
      oauth2.getOAuthAccessToken = (
        code: string,
        params: Record<string, string>,
        done: NodeOAuth2Callback,
      ) => {
        port
          .exchangeCode({
            code,
            redirectUri: params.redirect_uri ?? callbackURL,
            codeVerifier: params.code_verifier,
          })
          .then((tokens) => done(null, tokens.accessToken, tokens.refreshToken, { tokens }), done);
      };
    }

    // Profiles come with the token exchange (the TokenSet's account); no extra call.
    override userProfile(_accessToken: string, done: (error: null, profile: object) => void): void {
      done(null, {});
    }

    validate(
      req: { authInfo?: unknown; oauthState?: VerifiedState },
      _accessToken: string,
      _refreshToken: string,
      params: { tokens: TokenSet },
    ): { tokens: TokenSet } {
      return { tokens: params.tokens };
    }
  }
  return new CrmOAuthStrategy();
}
