import { Injectable } from '@nestjs/common';
import { RetentionMark } from '@pm/domain';
import { CrmRepository } from './base.repository';

const FEED_MARK = 'contact_changes:';

/**
 * Deletes what has outlived its retention, a bounded batch per call (short transactions, no long lock), oldest
 * first. Called from the retention pass (outside requests) and, for the feed's mark, by the feed reader.
 */
@Injectable()
export class RetentionRepository extends CrmRepository {
  /**
   * Change feed entries older than `before`, except those a tenant's webhook endpoint has not yet turned into
   * deliveries; each tenant's mark moves to the highest id deleted for it, in the same statement. Returns how many.
   */
  async pruneContactChanges(before: Date, batch: number): Promise<number> {
    const [row] = await this.fork()
      .getConnection()
      .execute<{ deleted: number }[]>(
        `with "gone" as (
           delete from "contact_changes" where "id" in (
             select "c"."id" from "contact_changes" "c"
               left join "webhook_endpoints" "e" on "e"."tenant_id" = "c"."tenant_id"
              where "c"."occurred_at" < ? and ("e"."id" is null or "c"."id" <= "e"."feed_position")
              order by "c"."occurred_at" limit ?)
           returning "tenant_id", "id"),
         "marked" as (
           insert into "retention_marks" ("name", "through_id", "updated_at")
             select ? || "tenant_id", max("id"), now() from "gone" group by "tenant_id"
           on conflict ("name") do update
             set "through_id" = greatest("retention_marks"."through_id", excluded."through_id"),
                 "updated_at" = excluded."updated_at")
         select count(*)::int as "deleted" from "gone"`,
        [before, batch, FEED_MARK],
        'all',
      );
    return row.deleted;
  }

  /** Webhook deliveries older than `before` that are settled (delivered or given up); pending ones stay. */
  async pruneWebhookDeliveries(before: Date, batch: number): Promise<number> {
    return this.deleteOldest('webhook_deliveries', 'created_at', before, batch, `"status" <> 'pending'`);
  }

  /** Sync log lines older than `before`. */
  async pruneSyncLog(before: Date, batch: number): Promise<number> {
    return this.deleteOldest('sync_log_entries', 'at', before, batch);
  }

  /** The highest change feed id deleted for the tenant ('0' when none was). */
  async feedDeletedThrough(tenantId: string): Promise<string> {
    const mark = await this.fork().findOne(RetentionMark, { name: `${FEED_MARK}${tenantId}` });
    return mark?.throughId ?? '0';
  }

  private async deleteOldest(
    table: string,
    column: string,
    before: Date,
    batch: number,
    also = 'true',
  ): Promise<number> {
    const [row] = await this.fork()
      .getConnection()
      .execute<{ deleted: number }[]>(
        `with "gone" as (
           delete from "${table}" where "id" in (
             select "id" from "${table}" where "${column}" < ? and ${also} order by "${column}" limit ?)
           returning 1)
         select count(*)::int as "deleted" from "gone"`,
        [before, batch],
        'all',
      );
    return row.deleted;
  }
}
