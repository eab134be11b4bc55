import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { SecretBox, type ConnectionCredential, type CrmConnection } from '@pm/domain';
import {
  CrmError,
  CrmErrorCode,
  IntegrationPortRegistry,
  type CrmSession,
  type TokenSet,
} from '@pm/integration-port';
import { ConnectionCredentialRepository, ConnectionRepository, type SealedCredential } from '../repositories';

/** What is sealed per connection. Never logged, never returned, never shown. */
interface StoredTokens {
  accessToken: string;
  refreshToken?: string;
  scope?: string;
}

const hostOf = (url: string | null | undefined): string => {
  try {
    return new URL(url ?? '').host;
  } catch {
    return String(url);
  }
};

/** Whether a refreshed token's API base is on another origin than the connection's. */
function movedHost(stored: string | null | undefined, fresh: string | undefined): boolean {
  if (!stored || !fresh) return false;
  try {
    return new URL(stored).origin !== new URL(fresh).origin;
  } catch {
    return true;
  }
}

/** Refresh this long before the CRM says the access token expires, so a call never starts with a dying token. */
const EXPIRY_SKEW_MS = 60_000;

/**
 * The token vault: OAuth tokens sealed with AES-256-GCM at rest, handed to connectors as a `CrmSession`, refreshed
 * before expiry and on a 401. A refresh holds a row lock on the connection's credential, so two workers never
 * refresh one connection at once (a refresh race that loses a rotated refresh token breaks the connection); the
 * loser of the race finds the new token and uses it without calling the CRM.
 */
/** The configured encryption key cannot open the stored tokens: the service must not start. */
export class EncryptionKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncryptionKeyError';
  }
}

@Injectable()
export class TokenVault implements OnModuleInit {
  private readonly logger = new Logger(TokenVault.name);

  constructor(
    private readonly credentials: ConnectionCredentialRepository,
    private readonly connections: ConnectionRepository,
    private readonly box: SecretBox,
    private readonly registry: IntegrationPortRegistry,
  ) {}

  /**
   * A wrong encryption key stops the start: with it every sync and refresh would fail one by one. The newest token
   * each key id sealed must open with the key configured under that id.
   */
  async onModuleInit(): Promise<void> {
    for (const { credential, count } of await this.credentials.newestPerKey()) {
      const connectionId = credential.connection.id;
      try {
        this.box.open(credential, connectionId);
      } catch (error) {
        const known = this.box.knowsKey(credential.keyId);
        throw new EncryptionKeyError(
          `The token encryption key ${known ? 'configured as' : 'for'} key id "${credential.keyId}" ` +
            `${known ? 'does not open' : 'is not configured, yet it sealed'} the CRM tokens stored in the database ` +
            `(${count} connection${count === 1 ? '' : 's'}; ${error instanceof Error ? error.message : error}). ` +
            'Start with the key they were sealed with (TOKEN_ENCRYPTION_KEY and TOKEN_ENCRYPTION_KEY_ID), or list ' +
            'it in TOKEN_ENCRYPTION_PREVIOUS_KEYS while rotating; the service does not start with a wrong key.',
        );
      }
    }
  }

  /** Seals a fresh token set for a connection (on connect or reconnect), replacing what it had. */
  async save(connectionId: string, tokens: TokenSet): Promise<void> {
    const existing = await this.credentials.findByConnection(connectionId);
    const previous = existing ? this.unseal(existing, connectionId) : undefined;
    await this.credentials.save(connectionId, this.seal(connectionId, tokens, previous));
  }

  /** A usable session for the connection, refreshing first when the access token is about to expire. */
  async session(connectionId: string): Promise<CrmSession> {
    const connection = await this.requireConnection(connectionId);
    const credential = await this.credentials.findByConnection(connectionId);
    if (!credential) throw noCredentials();
    const tokens = this.unseal(credential, connectionId);
    const expiresAt = credential.accessTokenExpiresAt?.getTime();
    if (expiresAt !== undefined && expiresAt - EXPIRY_SKEW_MS <= Date.now()) {
      return this.refresh(connectionId, tokens.accessToken);
    }
    return this.toSession(connection, tokens);
  }

  /**
   * Refreshes the access token unless another worker already did since `staleAccessToken` was read. AUTH_REVOKED
   * (`invalid_grant`) moves the connection to needs_reconnect with the CRM's reason, and is rethrown.
   */
  async refresh(connectionId: string, staleAccessToken?: string): Promise<CrmSession> {
    let revoked: CrmError | undefined;
    const session = await this.credentials.lockForRefresh(
      connectionId,
      async ({ connection, credential }) => {
        if (!credential) throw noCredentials();
        const tokens = this.unseal(credential, connectionId);
        if (staleAccessToken !== undefined && tokens.accessToken !== staleAccessToken) {
          return this.toSession(connection, tokens);
        }
        if (!tokens.refreshToken) {
          revoked = new CrmError(
            CrmErrorCode.AUTH_REVOKED,
            'The CRM issued no refresh token; reconnect to continue',
          );
        } else {
          try {
            const port = this.registry.get(connection.provider);
            const fresh = await port.refreshTokens(tokens.refreshToken, {
              instanceUrl: connection.instanceUrl ?? undefined,
            });
            if (movedHost(connection.instanceUrl, fresh.instanceUrl)) {
              // A refresh never moves an account to another host: the new token is not used or stored.
              throw new CrmError(
                CrmErrorCode.AUTH_REVOKED,
                `the refreshed token names another API host (${hostOf(fresh.instanceUrl)}) than this ` +
                  `connection uses (${hostOf(connection.instanceUrl)}); reconnect to confirm the account`,
                { provider: connection.provider },
              );
            }
            if (fresh.instanceUrl) connection.instanceUrl = fresh.instanceUrl;
            Object.assign(credential, this.seal(connectionId, fresh, tokens));
            return this.toSession(connection, {
              accessToken: fresh.accessToken,
              refreshToken: fresh.refreshToken ?? tokens.refreshToken,
            });
          } catch (error) {
            if (!CrmError.is(error, CrmErrorCode.AUTH_REVOKED)) throw error;
            revoked = error;
          }
        }
        connection.status = 'needs_reconnect';
        connection.statusReason = `The CRM refused to refresh access: ${revoked.message}`;
        connection.health = 'paused';
        connection.healthReason = 'Credentials revoked; waiting for the user to reconnect';
        return undefined;
      },
    );
    if (revoked) {
      this.logger.warn(`Connection ${connectionId} needs reconnecting: ${revoked.message}`);
      throw revoked;
    }
    return session as CrmSession;
  }

  /** Runs a CRM call with a session; on AUTH_EXPIRED refreshes once and runs it again. */
  async withSession<T>(connectionId: string, call: (session: CrmSession) => Promise<T>): Promise<T> {
    const session = await this.session(connectionId);
    try {
      return await call(session);
    } catch (error) {
      if (!CrmError.is(error, CrmErrorCode.AUTH_EXPIRED)) throw error;
      return call(await this.refresh(connectionId, session.accessToken));
    }
  }

  /**
   * Revokes the connection's token at the CRM (best effort: the user asked to disconnect, so an unreachable CRM
   * does not keep the secrets here) and deletes the sealed secrets. Says whether the CRM confirmed.
   */
  async revokeAndDelete(connectionId: string): Promise<{ revokedAtCrm: boolean; reason?: string }> {
    const connection = await this.requireConnection(connectionId);
    const credential = await this.credentials.findByConnection(connectionId);
    if (!credential) return { revokedAtCrm: false, reason: 'no stored credentials' };
    const tokens = this.unseal(credential, connectionId);
    let result: { revokedAtCrm: boolean; reason?: string } = { revokedAtCrm: true };
    try {
      await this.registry.get(connection.provider).revokeToken(tokens.refreshToken ?? tokens.accessToken, {
        instanceUrl: connection.instanceUrl ?? undefined,
      });
    } catch (error) {
      result = { revokedAtCrm: false, reason: error instanceof Error ? error.message : String(error) };
      this.logger.warn(`Revoking connection ${connectionId} at the CRM failed: ${result.reason}`);
    }
    await this.credentials.deleteForConnection(connectionId);
    return result;
  }

  /** Re-seals every credential with the current key (`npm run keys:rotate`). Returns how many were re-sealed. */
  rotateAll(): Promise<number> {
    return this.credentials.resealAll(this.box.currentKeyId, (credential) => {
      const connectionId = credential.connection.id;
      return this.box.seal(this.box.open(credential, connectionId), connectionId);
    });
  }

  private async requireConnection(connectionId: string): Promise<CrmConnection> {
    const connection = await this.connections.findById(connectionId);
    if (!connection) throw new Error(`Connection "${connectionId}" does not exist`);
    return connection;
  }

  /** The credential's new contents for `tokens`; a CRM that sends no new refresh token keeps the previous one. */
  private seal(connectionId: string, tokens: TokenSet, previous: StoredTokens | undefined): SealedCredential {
    const sealed = this.box.seal(
      JSON.stringify({
        accessToken: tokens.accessToken,
        // Some CRMs (Zoho) do not send a new refresh token: keep the one we have.
        refreshToken: tokens.refreshToken ?? previous?.refreshToken,
        scope: tokens.scope,
      } satisfies StoredTokens),
      connectionId,
    );
    return {
      keyId: sealed.keyId,
      sealed: sealed.sealed,
      accessTokenExpiresAt: tokens.expiresAt ?? null,
      refreshedAt: new Date(),
    };
  }

  private unseal(credential: ConnectionCredential, connectionId: string): StoredTokens {
    return JSON.parse(this.box.open(credential, connectionId)) as StoredTokens;
  }

  private toSession(connection: CrmConnection, tokens: StoredTokens): CrmSession {
    return {
      connectionId: connection.id,
      accessToken: tokens.accessToken,
      instanceUrl: connection.instanceUrl ?? undefined,
      accountId: connection.crmAccountId ?? undefined,
    };
  }
}

function noCredentials(): CrmError {
  return new CrmError(CrmErrorCode.AUTH_REVOKED, 'The connection has no stored credentials');
}
