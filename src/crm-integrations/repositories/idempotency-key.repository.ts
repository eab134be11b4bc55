import { Injectable } from '@nestjs/common';
import { IdempotencyKey } from '@pm/domain';
import { CrmRepository } from './base.repository';

export interface IdempotencyScope {
  tenantId: string;
  scope: string;
  key: string;
}

/**
 * Stored `Idempotency-Key`s. Every write commits at once on its own context (outside the request's unit of work),
 * so a second request with the same key sees the first one's claim while it still runs.
 */
@Injectable()
export class IdempotencyKeyRepository extends CrmRepository {
  /** Claims the key for a new request; null when the (unexpired) key is already there. */
  async claim(
    where: IdempotencyScope,
    requestHash: string,
    now: Date,
    expiresAt: Date,
  ): Promise<string | null> {
    const connection = this.fork().getConnection();
    // Expired keys of this caller are forgotten (so a key may be used again, and the table holds at most a day of
    // each caller's keys).
    await connection.execute(
      `delete from idempotency_keys where tenant_id = ? and scope = ? and expires_at <= ?`,
      [where.tenantId, where.scope, now],
    );
    const rows = await connection.execute<{ id: string }[]>(
      `insert into idempotency_keys (id, tenant_id, scope, key, request_hash, created_at, expires_at)
       values (gen_random_uuid(), ?, ?, ?, ?, ?, ?)
       on conflict (tenant_id, scope, key) do nothing
       returning id`,
      [where.tenantId, where.scope, where.key, requestHash, now, expiresAt],
    );
    return rows[0]?.id ?? null;
  }

  find(where: IdempotencyScope): Promise<IdempotencyKey | null> {
    return this.fork().findOne(IdempotencyKey, where);
  }

  async complete(id: string, status: number, body: unknown): Promise<void> {
    await this.fork()
      .getConnection()
      .execute(`update idempotency_keys set response_status = ?, response_body = ? where id = ?`, [
        status,
        body === undefined ? null : JSON.stringify(body),
        id,
      ]);
  }

  /** Forgets a claim whose request failed, so the caller may try again with the same key. */
  async release(id: string): Promise<void> {
    await this.fork().getConnection().execute(`delete from idempotency_keys where id = ?`, [id]);
  }

  async deleteExpired(now: Date): Promise<number> {
    return this.fork().nativeDelete(IdempotencyKey, { expiresAt: { $lte: now } });
  }
}
