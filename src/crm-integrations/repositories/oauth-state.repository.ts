import { Injectable } from '@nestjs/common';
import { OAuthState, Tenant } from '@pm/domain';
import { CrmRepository } from './base.repository';

export interface NewOAuthState {
  stateHash: string;
  tenantId: string;
  provider: string;
  connectionId: string | null;
  startOver: boolean;
  keyId: string | null;
  codeVerifier: string | null;
  returnTo: string | null;
  actor: string;
  expiresAt: Date;
}

/** Issued OAuth sign-in states (hashed), single-use. */
@Injectable()
export class OAuthStateRepository extends CrmRepository {
  async create(input: NewOAuthState): Promise<void> {
    const em = this.fork();
    const { tenantId, ...values } = input;
    em.create(OAuthState, { ...values, tenant: em.getReference(Tenant, tenantId) });
    await em.flush();
  }

  /**
   * Binds an unused, unexpired, not yet bound state to one browser (the hash of its cookie), in the statement that
   * checks it, so two browsers opening one start link cannot both hold it. Returns the state, or null.
   */
  async bindBrowser(stateHash: string, provider: string, bindingHash: string): Promise<OAuthState | null> {
    const rows = await this.fork()
      .getConnection()
      .execute<{ id: string }[]>(
        `update oauth_states set browser_binding = ?
          where state_hash = ? and provider = ? and browser_binding is null and used_at is null
            and expires_at > now()
          returning id`,
        [bindingHash, stateHash, provider],
      );
    if (rows.length === 0) return null;
    return this.fork().findOneOrFail(OAuthState, rows[0].id, { populate: ['codeVerifier'] });
  }

  /**
   * Marks the state used in the same statement that checks it is unused, unexpired and bound to this browser, so two
   * callbacks racing with one state cannot both pass. Returns the state (with its sealed verifier), or null.
   */
  async consume(stateHash: string, provider: string, bindingHash: string): Promise<OAuthState | null> {
    const rows = await this.fork()
      .getConnection()
      .execute<{ id: string }[]>(
        `update oauth_states set used_at = now()
          where state_hash = ? and provider = ? and used_at is null and expires_at > now()
            and browser_binding = ?
          returning id`,
        [stateHash, provider, bindingHash],
      );
    if (rows.length === 0) return null;
    return this.fork().findOneOrFail(OAuthState, rows[0].id, { populate: ['codeVerifier'] });
  }
}
