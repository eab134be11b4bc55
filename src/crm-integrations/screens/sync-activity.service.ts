import { Injectable } from '@nestjs/common';
import type { SyncLogAction, SyncRun, SyncRunCounts } from '@pm/domain';
import type { ActivityCountsDto, TodayCountsDto } from '../connections/connection-activity.dto';
import { ConnectionActivityService } from '../connections/connection-activity.service';
import type { RealtimeStatusDto } from '../realtime/realtime.dto';
import type { ReconcileRunResponseDto } from '../reconcile/reconcile.dto';
import { ReconcileService } from '../reconcile/reconcile.service';
import { RealtimeStatusService } from '../realtime/realtime-status.service';
import { ScreensRepository, type ScreenScope } from '../repositories';
import type { SyncLogPageDto } from '../sync/sync-log.dto';
import { SyncLogService, type SyncLogPageFilters } from '../sync/sync-log.service';
import type { SyncLogEntryResponseDto } from '../sync/sync.dto';

/** The seed's "Today's Activity". */
export interface TodayCounts {
  contactsSynced: number;
  activitiesLogged: number;
  conflictsResolved: number;
  errors: number;
}

export interface LogLineView {
  id: string;
  at: string;
  connectionId: string;
  provider: string | null;
  /** → to the CRM, ← from it, · about the connection itself. */
  arrow: '→' | '←' | '·';
  direction: string;
  object: string;
  recordKey: string | null;
  action: string;
  message: string;
}

/** A run's counts as table rows, one per direction and object. */
export interface RunCountsRow {
  direction: string;
  object: string;
  created: number;
  updated: number;
  skipped: number;
  conflicts: number;
  errors: number;
  deleted: number;
}

export interface RunView {
  id: string;
  connectionId: string;
  trigger: string;
  status: string;
  queuedAt: string;
  finishedAt: string | null;
  error: string | null;
  counts: RunCountsRow[];
}

/** The latest reconcile that found something, and whether another is waiting or running. */
export interface ReconcileView {
  /** The newest finished reconcile with its drift per CRM object; null before the first. */
  latest: {
    runId: string;
    at: string;
    status: string;
    drift: NonNullable<ReconcileRunResponseDto['drift']>;
  } | null;
  /** A reconcile queued or running now (its drift is not known yet). */
  pending: boolean;
}

/** The full log's filters as the screens pass them: the API's, over a screen's scope. */
export interface ScreenLogFilter extends ScreenScope {
  direction?: 'to_crm' | 'from_crm' | 'none';
  action?: SyncLogAction;
  errorsOnly?: boolean;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

/** One page of the full log: the API's cursor paging, and the count the screen numbers its pages by. */
export interface LogPageView {
  lines: LogLineView[];
  /** The next (older) page's cursor; null on the last page. */
  nextCursor: string | null;
  total: number;
  pageSize: number;
}

const ARROWS: Record<string, LogLineView['arrow']> = { to_crm: '→', from_crm: '←', none: '·' };
/** The screens' pages hold fewer lines than the API's. */
const SCREEN_PAGE_MAX = 100;

/** The API's counts as the screens show them: contacts synced either way as one figure. */
export function todayCountsView(counts: ActivityCountsDto | undefined): TodayCounts {
  return {
    contactsSynced: (counts?.contactsIn ?? 0) + (counts?.contactsOut ?? 0),
    activitiesLogged: counts?.activitiesLogged ?? 0,
    conflictsResolved: counts?.conflictsResolved ?? 0,
    errors: counts?.errors ?? 0,
  };
}

export function runCountsRows(counts: SyncRunCounts | null | undefined): RunCountsRow[] {
  const rows: RunCountsRow[] = [];
  for (const [direction, objects] of Object.entries(counts ?? {})) {
    for (const [object, value] of Object.entries(objects ?? {})) {
      rows.push({
        direction,
        object,
        created: value?.created ?? 0,
        updated: value?.updated ?? 0,
        skipped: value?.skipped ?? 0,
        conflicts: value?.conflicts ?? 0,
        errors: value?.errors ?? 0,
        deleted: value?.deleted ?? 0,
      });
    }
  }
  return rows;
}

export function logLineView(line: SyncLogEntryResponseDto, provider: string | null): LogLineView {
  return {
    id: line.id,
    at: line.at,
    connectionId: line.connectionId,
    provider,
    arrow: ARROWS[line.direction] ?? '·',
    direction: line.direction,
    object: line.object,
    recordKey: line.recordKey,
    action: line.action,
    message: line.message,
  };
}

export function runView(run: SyncRun): RunView {
  return {
    id: run.id,
    connectionId: run.connection.id,
    trigger: run.trigger,
    status: run.status,
    queuedAt: run.queuedAt.toISOString(),
    finishedAt: run.finishedAt ? run.finishedAt.toISOString() : null,
    error: run.error ?? null,
    counts: runCountsRows(run.counts),
  };
}

/**
 * Today's counts and the sync log as the Sync Activity page, the home page and the admin controls show them: the
 * API's own services (ConnectionActivityService, SyncLogService) read them, so the screens and the API count and
 * filter alike; this only shapes their answers for the screens and reads across tenants for a platform admin.
 */
@Injectable()
export class SyncActivityService {
  constructor(
    private readonly screens: ScreensRepository,
    private readonly activity: ConnectionActivityService,
    private readonly syncLog: SyncLogService,
    private readonly realtimeStatus: RealtimeStatusService,
    private readonly reconciles: ReconcileService,
  ) {}

  /** The connection's latest reconcile and its drift by kind, as GET …/connections/:id/reconciles lists them. */
  async reconcile(tenantId: string, connectionId: string): Promise<ReconcileView> {
    const runs = await this.screens.inContext(() => this.reconciles.listRuns(tenantId, connectionId, 5));
    const latest = runs.find((run) => run.drift);
    return {
      latest: latest?.drift
        ? {
            runId: latest.id,
            at: latest.finishedAt ?? latest.startedAt ?? latest.queuedAt,
            status: latest.status,
            drift: latest.drift,
          }
        : null,
      pending: runs.some((run) => run.status === 'queued' || run.status === 'running'),
    };
  }

  /** Reconcile now, as POST …/connections/:id/reconcile does it (same checks: refused while not runnable). */
  reconcileNow(tenantId: string, connectionId: string): Promise<{ queued: boolean; runId: string }> {
    return this.screens.inOwnContext(async () => {
      const result = await this.reconciles.reconcileNow(tenantId, connectionId);
      return { queued: result.queued, runId: result.run.id };
    });
  }

  /** Real-time on or off and the measured lag, as GET …/connections/:id/realtime answers. */
  realtime(tenantId: string, connectionId: string): Promise<RealtimeStatusDto> {
    return this.screens.inContext(() => this.realtimeStatus.status(tenantId, connectionId));
  }

  /**
   * Today's counts for the scope (a tenant's, or every tenant's with tenantId null), summed and per connection.
   * With a connectionId, tenantId must be that connection's tenant (the caller has looked it up).
   */
  async todayCounts(
    scope: ScreenScope,
  ): Promise<{ totals: TodayCounts; byConnection: Map<string, TodayCounts> }> {
    const counted: TodayCountsDto =
      scope.tenantId === null
        ? await this.activity.platformTodayCounts()
        : await this.activity.todayCounts(scope.tenantId, scope.connectionId);
    const rows = counted.connections.filter(
      (row) => !scope.connectionId || row.connectionId === scope.connectionId,
    );
    const byConnection = new Map(rows.map((row) => [row.connectionId, todayCountsView(row)]));
    const totals = todayCountsView(undefined);
    for (const row of byConnection.values()) {
      for (const key of Object.keys(totals) as (keyof TodayCounts)[]) totals[key] += row[key];
    }
    return { totals, byConnection };
  }

  /**
   * One page of the log, newest first: the first without a cursor, the next with the last page's `nextCursor`.
   * A connectionId of another tenant finds nothing for a tenant's scope.
   */
  async log(filter: ScreenLogFilter, page: { cursor?: string; pageSize: number }): Promise<LogPageView> {
    const pageSize = Math.min(Math.max(Math.trunc(page.pageSize) || 1, 1), SCREEN_PAGE_MAX);
    const filters: Omit<SyncLogPageFilters, 'cursor' | 'limit'> = {
      connectionId: filter.connectionId,
      direction: filter.direction,
      // Errors only wins over an action, as the checkbox says.
      action: filter.errorsOnly || !filter.action ? undefined : [filter.action],
      errorsOnly: filter.errorsOnly,
      from: filter.from,
      to: filter.to,
    };
    const paging = { ...filters, cursor: page.cursor || undefined, limit: pageSize };
    const read: SyncLogPageDto =
      filter.tenantId === null
        ? await this.syncLog.platformPage(paging)
        : await this.syncLog.page(filter.tenantId, paging);
    const [total, connections] = await Promise.all([
      this.syncLog.count(filter.tenantId, filters),
      this.screens.listConnections({ tenantId: filter.tenantId }),
    ]);
    const providers = new Map(connections.map((connection) => [connection.id, connection.provider]));
    return {
      lines: read.data.map((line) => logLineView(line, providers.get(line.connectionId) ?? null)),
      nextCursor: read.nextCursor,
      total,
      pageSize,
    };
  }

  async recentRuns(scope: ScreenScope, limit: number): Promise<RunView[]> {
    return (await this.screens.listRuns(scope, limit)).map(runView);
  }
}
