import { Injectable } from '@nestjs/common';
import { CrmRepository } from './base.repository';

/**
 * Leases on connections' change streams (see ChangeStreamLease), on the database's clock so that workers on several
 * machines agree on when a lease has run out. Called from the subscriber (outside requests).
 */
@Injectable()
export class ChangeStreamLeaseRepository extends CrmRepository {
  /**
   * Takes or renews the leases of `connectionIds` for `holder` until `ttlMs` from now, where the lease is free, ours
   * or expired; answers the ids the holder now holds (another live holder keeps the rest).
   */
  async claim(connectionIds: readonly string[], holder: string, ttlMs: number): Promise<string[]> {
    if (connectionIds.length === 0) return [];
    const rows = await this.fork()
      .getConnection()
      .execute<{ connection_id: string }[]>(
        `insert into "change_stream_leases" ("connection_id", "holder", "expires_at")
           select "id", ?, now() + make_interval(secs => ?) from unnest(?::uuid[]) as "wanted"("id")
         on conflict ("connection_id") do update
           set "holder" = excluded."holder", "expires_at" = excluded."expires_at"
           where "change_stream_leases"."holder" = excluded."holder" or "change_stream_leases"."expires_at" < now()
         returning "connection_id"`,
        [holder, ttlMs / 1000, `{${connectionIds.join(',')}}`],
        'all',
      );
    return rows.map((row) => row.connection_id);
  }

  /** Gives up the holder's leases of `connectionIds` (all of them when absent), so another worker may take over. */
  async release(holder: string, connectionIds?: readonly string[]): Promise<void> {
    const only = connectionIds === undefined ? '' : ` and "connection_id" = any(?::uuid[])`;
    const params: unknown[] = [holder];
    if (connectionIds !== undefined) params.push(`{${connectionIds.join(',')}}`);
    await this.fork()
      .getConnection()
      .execute(`delete from "change_stream_leases" where "holder" = ?${only}`, params, 'run');
  }
}
