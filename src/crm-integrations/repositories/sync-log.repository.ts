import { Injectable } from '@nestjs/common';
import type { FilterQuery } from '@mikro-orm/core';
import { SyncLogEntry, type SyncLogAction } from '@pm/domain';
import type { SyncConnection, SyncLogLine, SyncLogSink } from '@pm/sync-engine';
import { CrmRepository, insertRows, type RowColumn } from './base.repository';

/** Which log lines to read: one tenant's, or every tenant's (null); the rest narrows. */
export interface SyncLogFilter {
  /** null: every tenant's lines, for a platform admin's screens only (no API route reads across tenants). */
  tenantId: string | null;
  connectionId?: string;
  runId?: string;
  direction?: SyncLogEntry['direction'];
  actions?: SyncLogAction[];
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
  /** Keyset: only lines older than this one (newest first by time, then id). */
  before?: { at: Date; id: string };
  limit: number;
}

/** What one connection's log says happened in a time range, line by line. */
export interface SyncLogCounts {
  connectionId: string;
  contactsIn: number;
  contactsOut: number;
  activitiesLogged: number;
  conflictsResolved: number;
  errors: number;
}

/** A log line's own columns, in the order `write` lists them. */
const LOG_LINE_COLUMNS: RowColumn[] = [
  ['direction', 'text'],
  ['object', 'text'],
  ['record_key', 'text'],
  ['action', 'text'],
  ['message', 'text'],
  ['details', 'jsonb?'],
];

/** The per-connection sync log: the engine's `SyncLogSink`, and what the log route reads. */
@Injectable()
export class SyncLogRepository extends CrmRepository implements SyncLogSink {
  async write(connection: SyncConnection, runId: string | null, lines: SyncLogLine[]): Promise<void> {
    if (lines.length === 0) return;
    const at = new Date();
    // One native insert: the lines are only written, never read back, so they skip the unit of work (an entity, a
    // change set and a snapshot per line was most of what a sync page allocated) and MikroORM's per-value literals.
    await insertRows(
      this.fork(),
      'sync_log_entries',
      [
        ['tenant_id', 'text', connection.tenantId],
        ['connection_id', 'uuid', connection.id],
        ['run_id', 'uuid', runId],
        ['at', 'timestamptz', at],
      ],
      LOG_LINE_COLUMNS,
      lines.map((line) => [
        line.direction,
        line.object,
        line.recordKey ?? null,
        line.action,
        line.message,
        line.details ?? null,
      ]),
    );
  }

  /** Newest first; only one run's lines when `runId` is given. */
  listForConnection(connectionId: string, limit: number, runId?: string): Promise<SyncLogEntry[]> {
    return this.fork().find(
      SyncLogEntry,
      { connection: connectionId, ...(runId ? { run: runId } : {}) },
      { orderBy: { id: 'desc' }, limit },
    );
  }

  /**
   * One page of the log, newest first by (time, id): the (tenant, at) and (connection, at) indexes serve both
   * the order and the keyset, so a page costs the same however deep it is.
   */
  page(filter: SyncLogFilter): Promise<SyncLogEntry[]> {
    const and: FilterQuery<SyncLogEntry>[] = [this.matching(filter)];
    if (filter.before) {
      const { at, id } = filter.before;
      // `at <= cursor` alone is what the index can seek to; the OR then drops the lines of that instant already read.
      and.push({ at: { $lte: at } }, { $or: [{ at: { $lt: at } }, { at, id: { $lt: id } }] });
    }
    return this.fork().find(
      SyncLogEntry,
      { $and: and },
      { orderBy: [{ at: 'desc' }, { id: 'desc' }], limit: filter.limit, populate: [] },
    );
  }

  /** How many lines the filter matches, whatever the page (the screens' "Page 2 of 7"). */
  count(filter: Omit<SyncLogFilter, 'before' | 'limit'>): Promise<number> {
    return this.fork().count(SyncLogEntry, this.matching(filter));
  }

  private matching(filter: Omit<SyncLogFilter, 'before' | 'limit'>): FilterQuery<SyncLogEntry> {
    const where: FilterQuery<SyncLogEntry> = {};
    if (filter.tenantId !== null) where.tenant = filter.tenantId;
    if (filter.connectionId) where.connection = filter.connectionId;
    if (filter.runId) where.run = filter.runId;
    if (filter.direction) where.direction = filter.direction;
    if (filter.actions) where.action = { $in: filter.actions };
    if (filter.from || filter.to) {
      where.at = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) };
    }
    return where;
  }

  /**
   * Per connection of the tenant (or the one given; every tenant's with tenantId null, for a platform admin's
   * screens), what its log lines in [from, to) count: contacts synced in (from the CRM) and out (to it),
   * activities logged, conflicts resolved, errors. One aggregate over the (tenant, at) index; a connection
   * without lines in the range is not in the answer.
   */
  async countsBetween(
    tenantId: string | null,
    from: Date,
    to: Date,
    connectionId?: string,
  ): Promise<SyncLogCounts[]> {
    const rows = await this.fork()
      .getConnection()
      .execute<
        {
          connection_id: string;
          contacts_in: string;
          contacts_out: string;
          activities_logged: string;
          conflicts_resolved: string;
          errors: string;
        }[]
      >(
        `select connection_id,
            count(*) filter (where direction = 'from_crm' and action in ('created', 'updated', 'deleted')) as contacts_in,
            count(*) filter (where direction = 'to_crm' and action in ('created', 'updated', 'deleted')) as contacts_out,
            count(*) filter (where action = 'activity_logged') as activities_logged,
            count(*) filter (where action = 'conflict_resolved') as conflicts_resolved,
            count(*) filter (where action = 'error') as errors
          from sync_log_entries
          where at >= ? and at < ?${tenantId !== null ? ' and tenant_id = ?' : ''}${connectionId ? ' and connection_id = ?' : ''}
          group by connection_id`,
        [from, to, ...(tenantId !== null ? [tenantId] : []), ...(connectionId ? [connectionId] : [])],
      );
    return rows.map((row) => ({
      connectionId: row.connection_id,
      contactsIn: Number(row.contacts_in),
      contactsOut: Number(row.contacts_out),
      activitiesLogged: Number(row.activities_logged),
      conflictsResolved: Number(row.conflicts_resolved),
      errors: Number(row.errors),
    }));
  }
}
