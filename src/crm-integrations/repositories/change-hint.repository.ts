import { Injectable } from '@nestjs/common';
import { ChangeHintRecord } from '@pm/domain';
import { CrmRepository } from './base.repository';

/** A hint as stored: one record of one event. */
export interface StoredHintInput {
  connectionId: string;
  object: string;
  crmId: string;
  action: string;
  eventId: string | null;
  occurredAt: Date;
}

export interface PendingHint {
  id: string;
  object: string;
  crmId: string;
  action: string;
  occurredAt: Date;
}

export interface HintLagFigures {
  lagP50Ms: number | null;
  lagP95Ms: number | null;
  eventsLastHour: number;
}

/** Change hints waiting for a targeted sync, and those applied (for the lag figures). */
@Injectable()
export class ChangeHintRepository extends CrmRepository {
  /**
   * Stores hints; one already stored for the same record and event id (a CRM retry, a duplicate delivery) is left
   * as it is. Returns how many were new.
   */
  async insert(hints: readonly StoredHintInput[], receivedAt: Date): Promise<number> {
    if (hints.length === 0) return 0;
    const em = this.fork();
    const values = hints.map((hint) => [
      hint.connectionId,
      hint.object,
      hint.crmId,
      hint.action,
      hint.eventId,
      hint.occurredAt,
      receivedAt,
    ]);
    const placeholders = values.map(() => '(gen_random_uuid(), ?, ?, ?, ?, ?, ?, ?)').join(', ');
    const result = await em.getConnection().execute<{ affectedRows?: number }>(
      `insert into "change_hints" ("id", "connection_id", "object", "crm_id", "action", "event_id", "occurred_at", "received_at")
       values ${placeholders} on conflict on constraint "change_hints_event_unique" do nothing`,
      values.flat(),
      'run',
    );
    return result.affectedRows ?? 0;
  }

  /** The connection's hints not applied yet, oldest first. */
  async pending(connectionId: string, limit: number): Promise<PendingHint[]> {
    const rows = await this.fork().find(
      ChangeHintRecord,
      { connection: connectionId, appliedAt: null },
      { orderBy: { receivedAt: 'asc', id: 'asc' }, limit },
    );
    return rows.map((row) => ({
      id: row.id,
      object: row.object,
      crmId: row.crmId,
      action: row.action,
      occurredAt: row.occurredAt,
    }));
  }

  /** Marks hints applied at `at`, each with its own lag from when its change happened. */
  async markApplied(ids: readonly string[], outcome: string, at: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.fork()
      .getConnection()
      .execute(
        `update "change_hints" set "applied_at" = ?, "outcome" = ?,
           "lag_ms" = greatest(0, round(extract(epoch from (?::timestamptz - "occurred_at")) * 1000))::int
         where "id" = any(?::uuid[])`,
        [at, outcome, at, `{${ids.join(',')}}`],
        'run',
      );
  }

  /** Connections with hints still waiting (to queue again after a restart). */
  async connectionsWithPending(): Promise<string[]> {
    const rows = await this.fork()
      .getConnection()
      .execute<
        { connection_id: string }[]
      >(`select distinct "connection_id" from "change_hints" where "applied_at" is null`);
    return rows.map((row) => row.connection_id);
  }

  /**
   * p50 and p95 of the lag over the connection's last `lastN` applied hints (those that read a record), and the
   * hints received in the hour before `now`.
   */
  async lagFigures(connectionId: string, lastN: number, now: Date): Promise<HintLagFigures> {
    const connection = this.fork().getConnection();
    const [lag] = await connection.execute<{ p50: number | null; p95: number | null }[]>(
      `select percentile_cont(0.5) within group (order by "lag_ms") as p50,
              percentile_cont(0.95) within group (order by "lag_ms") as p95
         from (select "lag_ms" from "change_hints"
                where "connection_id" = ? and "applied_at" is not null and "outcome" <> 'ignored'
                order by "applied_at" desc limit ?) as recent`,
      [connectionId, lastN],
    );
    const [count] = await connection.execute<{ count: string }[]>(
      `select count(*) as count from "change_hints" where "connection_id" = ? and "received_at" > ?`,
      [connectionId, new Date(now.getTime() - 3_600_000)],
    );
    const round = (value: number | null) => (value === null ? null : Math.round(Number(value)));
    return {
      lagP50Ms: round(lag?.p50 ?? null),
      lagP95Ms: round(lag?.p95 ?? null),
      eventsLastHour: Number(count.count),
    };
  }

  /** Forgets applied hints older than `before` (the lag figures need only the recent ones). */
  async purgeApplied(connectionId: string, before: Date): Promise<void> {
    await this.fork().nativeDelete(ChangeHintRecord, {
      connection: connectionId,
      appliedAt: { $lt: before },
    });
  }
}
