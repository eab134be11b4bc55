import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { SecretBox } from '@pm/domain';
import { OAuthStateRepository } from '../repositories';
import { readBindingCookie } from './oauth-browser-binding';

/** How long a sign-in link stays valid. */
export const OAUTH_STATE_TTL_MS = 10 * 60 * 1000;

const hashState = (state: string) => createHash('sha256').update(state, 'utf8').digest('hex');

export interface IssuedState {
  state: string;
  codeChallenge?: string;
  expiresAt: Date;
}

/** The verified state handed to the strategy's verify callback. */
export interface VerifiedState {
  id: string;
  tenantId: string;
  provider: string;
  connectionId: string | null;
  startOver: boolean;
  returnTo: string | null;
  actor: string;
}

/**
 * OAuth `state` in PostgreSQL, in the shape passport-oauth2's state stores take: random, bound to tenant and
 * provider, single-use and expiring in 10 minutes, with the PKCE verifier sealed beside it. A replayed, expired or
 * foreign state fails verification and nothing is stored. A state is also bound, once, to the browser that opened
 * its start link (`bindBrowser`), and consumed only with that browser's binding cookie.
 */
@Injectable()
export class OAuthStateStore {
  constructor(
    private readonly states: OAuthStateRepository,
    private readonly box: SecretBox,
  ) {}

  async issue(input: {
    tenantId: string;
    provider: string;
    pkce: boolean;
    connectionId?: string;
    startOver?: boolean;
    returnTo?: string;
    actor: string;
  }): Promise<IssuedState> {
    const state = randomBytes(32).toString('base64url');
    const stateHash = hashState(state);
    const verifier = input.pkce ? randomBytes(32).toString('base64url') : undefined;
    const sealed = verifier ? this.box.seal(verifier, stateHash) : undefined;
    const expiresAt = new Date(Date.now() + OAUTH_STATE_TTL_MS);
    await this.states.create({
      stateHash,
      tenantId: input.tenantId,
      provider: input.provider,
      connectionId: input.connectionId ?? null,
      startOver: input.startOver ?? false,
      keyId: sealed?.keyId ?? null,
      codeVerifier: sealed?.sealed ?? null,
      returnTo: input.returnTo ?? null,
      actor: input.actor,
      expiresAt,
    });
    return {
      state,
      expiresAt,
      codeChallenge: verifier ? createHash('sha256').update(verifier).digest('base64url') : undefined,
    };
  }

  /**
   * Binds an unused, unexpired, not yet bound state to the browser opening its start link: returns the random
   * cookie value (only its hash is stored) and the PKCE challenge for the authorize URL, or null when the link is
   * expired, used, for another CRM, or already opened in a browser.
   */
  async bindBrowser(
    provider: string,
    state: string | undefined,
  ): Promise<{ binding: string; codeChallenge?: string } | null> {
    if (!state) return null;
    const stateHash = hashState(state);
    const binding = randomBytes(32).toString('base64url');
    const record = await this.states.bindBrowser(stateHash, provider, hashState(binding));
    if (!record) return null;
    const verifier =
      record.codeVerifier && record.keyId
        ? this.box.open({ keyId: record.keyId, sealed: record.codeVerifier }, stateHash)
        : undefined;
    return {
      binding,
      codeChallenge: verifier ? createHash('sha256').update(verifier).digest('base64url') : undefined,
    };
  }

  /**
   * Consumes a state for `provider`: marks it used in the same statement that checks it is unused and unexpired,
   * so two callbacks racing with one state cannot both pass. Returns the PKCE verifier (or true) and the state.
   */
  async consume(
    provider: string,
    state: string | undefined,
    browserBinding: string | undefined,
  ): Promise<{ verifier: string | true; state: VerifiedState } | null> {
    if (!state || !browserBinding) return null;
    const stateHash = hashState(state);
    const record = await this.states.consume(stateHash, provider, hashState(browserBinding));
    if (!record) return null;
    const verifier =
      record.codeVerifier && record.keyId
        ? this.box.open({ keyId: record.keyId, sealed: record.codeVerifier }, stateHash)
        : true;
    return {
      verifier,
      state: {
        id: record.id,
        tenantId: record.tenant.id,
        provider: record.provider,
        connectionId: record.connectionId ?? null,
        startOver: record.startOver,
        returnTo: record.returnTo ?? null,
        actor: record.actor,
      },
    };
  }

  /** passport-oauth2's state store interface: only `verify` is used (states are issued by the API, not passport). */
  forPassport(provider: string) {
    return {
      store: (
        _req: unknown,
        _verifier: unknown,
        _state: unknown,
        _meta: unknown,
        callback: (error: Error) => void,
      ) => callback(new Error('Sign-in links are issued by POST /api/v1/tenants/:tenantId/connections')),
      verify: (
        req: Parameters<typeof readBindingCookie>[0],
        providedState: string,
        _meta: unknown,
        callback: (
          error: Error | null,
          ok: string | boolean,
          state?: VerifiedState | { message: string },
        ) => void,
      ) => {
        this.consume(provider, providedState, readBindingCookie(req, providedState)).then(
          (result) =>
            result
              ? callback(null, result.verifier, result.state)
              : callback(null, false, {
                  message:
                    'This sign-in link has expired, was already used, belongs to another CRM, or was started ' +
                    'in another browser.',
                }),
          (error: Error) => callback(error, false),
        );
      },
    };
  }
}
