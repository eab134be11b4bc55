// OAuth token metadata routes (the authorize page and POST /oauth/v1/token come from the kit's OAuthServer).
// Follows https://developers.hubspot.com/docs/api/oauth/tokens: GET /oauth/v1/access-tokens/{token},
// GET /oauth/v1/refresh-tokens/{token}, DELETE /oauth/v1/refresh-tokens/{token} (204).
import { errorBody, HubSpotApiError, notFoundError } from './errors';
import type { HubSpotRouteContext } from './route-context';

export interface OAuthInfoOptions {
  portalId: number;
  appId: number;
  hubDomain: string;
}

export function registerOAuthInfoRoutes(context: HubSpotRouteContext, options: OAuthInfoOptions): void {
  const { server } = context;

  server.get('/oauth/v1/access-tokens/:token', (req, res) => {
    const token = String(req.params.token);
    const info = server.oauth.lookupAccessToken(token);
    if (!info || info.revoked) throw notFoundError('Access token not found', { context: { token: [token] } });
    const expiresInSeconds = Math.round((info.expiresAt.getTime() - server.clock.nowMs()) / 1000);
    if (info.expired) {
      throw new HubSpotApiError(
        401,
        errorBody('EXPIRED_AUTHENTICATION', `The OAuth token expired ${-expiresInSeconds} second(s) ago.`),
      );
    }
    res.json({
      token,
      user: info.account.userEmail ?? info.account.userName ?? info.account.userId,
      hub_domain: options.hubDomain,
      scopes: info.scopes,
      scope_to_scope_group_pks: [],
      trial_scopes: [],
      trial_scope_to_scope_group_pks: [],
      hub_id: options.portalId,
      app_id: options.appId,
      expires_in: expiresInSeconds,
      user_id: Number(info.account.userId),
      token_type: 'access',
    });
  });

  server.get('/oauth/v1/refresh-tokens/:token', (req, res) => {
    const token = String(req.params.token);
    const info = server.oauth.lookupRefreshToken(token);
    if (!info || info.revoked)
      throw notFoundError('Refresh token not found', { context: { token: [token] } });
    res.json({
      token,
      user: info.account.userEmail ?? info.account.userName ?? info.account.userId,
      hub_domain: options.hubDomain,
      scopes: info.scopes,
      hub_id: options.portalId,
      client_id: info.clientId,
      user_id: Number(info.account.userId),
      token_type: 'refresh',
    });
  });

  // Deleting a refresh token uninstalls the app's grant; its access tokens stop working too.
  server.delete('/oauth/v1/refresh-tokens/:token', (req, res) => {
    const token = String(req.params.token);
    if (!server.oauth.lookupRefreshToken(token)) throw notFoundError('Refresh token not found');
    server.oauth.revokeToken(token);
    res.status(204).end();
  });
}
