import { createHash, randomBytes } from 'node:crypto';
import { CrmError, CrmErrorCode } from '../../errors';
import type { ContractContext } from './contract-context';

/** The OAuth side: the authorize URL and refreshing tokens. */
export function oauthCases(ctx: ContractContext): void {
  const { runId } = ctx;

  it('builds an authorize URL carrying client_id, state and redirect_uri (and the PKCE challenge where supported)', () => {
    const state = `state-${runId}`;
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const url = new URL(
      ctx.fixture.port.buildAuthorizeUrl({
        state,
        redirectUri: ctx.fixture.oauth.redirectUri,
        codeChallenge: ctx.capabilities.oauth.pkce ? challenge : undefined,
      }),
    );
    expect(url.searchParams.get('state')).toBe(state);
    expect(url.searchParams.get('redirect_uri')).toBe(ctx.fixture.oauth.redirectUri);
    expect(url.searchParams.get('client_id')).toEqual(expect.stringMatching(/.+/));
    if (ctx.capabilities.oauth.pkce) {
      expect(url.searchParams.get('code_challenge')).toBe(challenge);
      expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    }
  });

  it('rejects an unknown refresh token with AUTH_REVOKED', async () => {
    const session = await ctx.fixture.session();
    const refresh = ctx.fixture.port.refreshTokens(`unknown-refresh-token-${runId}`, {
      instanceUrl: session.instanceUrl,
    });
    await expect(refresh).rejects.toBeInstanceOf(CrmError);
    await expect(refresh).rejects.toMatchObject({ code: CrmErrorCode.AUTH_REVOKED });
  });
}
