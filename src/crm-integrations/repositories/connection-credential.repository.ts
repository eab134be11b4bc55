import { Injectable } from '@nestjs/common';
import { LockMode } from '@mikro-orm/postgresql';
import { ConnectionCredential, CrmConnection } from '@pm/domain';
import { CrmRepository } from './base.repository';

/** What a credential row holds besides its connection: the sealed token set and when it expires. */
export interface SealedCredential {
  keyId: string;
  sealed: string;
  accessTokenExpiresAt: Date | null;
  refreshedAt: Date;
}

/** A connection and its credential, loaded under the credential's row lock for a refresh. */
export interface LockedCredential {
  connection: CrmConnection;
  credential: ConnectionCredential | null;
}

/**
 * Sealed OAuth credentials, one per connection. The vault calls these from workers as well as requests: every
 * method forks, and the sealed column (lazy, hidden) is loaded only here.
 */
@Injectable()
export class ConnectionCredentialRepository extends CrmRepository {
  findByConnection(connectionId: string): Promise<ConnectionCredential | null> {
    return this.fork().findOne(ConnectionCredential, { connection: connectionId }, { populate: ['sealed'] });
  }

  /** Replaces the connection's credential (creating it on first connect). */
  async save(connectionId: string, values: SealedCredential): Promise<void> {
    const em = this.fork();
    const credential =
      (await em.findOne(ConnectionCredential, { connection: connectionId }, { populate: ['sealed'] })) ??
      em.create(ConnectionCredential, {
        connection: em.getReference(CrmConnection, connectionId),
        keyId: values.keyId,
        sealed: values.sealed,
      });
    Object.assign(credential, values);
    await em.flush();
  }

  /**
   * Runs `work` in a transaction holding the row lock of the connection's credential, so two workers never
   * refresh one connection at once. What `work` changes on the connection and credential is committed with it.
   */
  lockForRefresh<T>(connectionId: string, work: (locked: LockedCredential) => Promise<T>): Promise<T> {
    return this.fork().transactional(async (em) => {
      const connection = await em.findOneOrFail(CrmConnection, connectionId);
      const credential = await em.findOne(
        ConnectionCredential,
        { connection: connectionId },
        { populate: ['sealed'], lockMode: LockMode.PESSIMISTIC_WRITE },
      );
      return work({ connection, credential });
    });
  }

  /** The newest credential sealed with each key id, and how many each key sealed (the start-up key check). */
  async newestPerKey(): Promise<{ credential: ConnectionCredential; count: number }[]> {
    const em = this.fork();
    const rows = await em.getConnection().execute<{ connection_id: string; count: string }[]>(
      `select distinct on (key_id) connection_id, count(*) over (partition by key_id) as count
           from connection_credentials order by key_id, updated_at desc`,
    );
    const found = [];
    for (const row of rows) {
      const credential = await em.findOneOrFail(
        ConnectionCredential,
        { connection: row.connection_id },
        { populate: ['sealed'] },
      );
      found.push({ credential, count: Number(row.count) });
    }
    return found;
  }

  async deleteForConnection(connectionId: string): Promise<void> {
    await this.fork().nativeDelete(ConnectionCredential, { connection: connectionId });
  }

  /**
   * Re-seals every credential not sealed with `currentKeyId`, with what `reseal` returns for it, in one flush.
   * Returns how many were re-sealed.
   */
  async resealAll(
    currentKeyId: string,
    reseal: (credential: ConnectionCredential) => { keyId: string; sealed: string },
  ): Promise<number> {
    const em = this.fork();
    const credentials = await em.find(
      ConnectionCredential,
      { keyId: { $ne: currentKeyId } },
      { populate: ['sealed'] },
    );
    for (const credential of credentials) Object.assign(credential, reseal(credential));
    await em.flush();
    return credentials.length;
  }
}
