import { Injectable } from '@nestjs/common';
import type { SyncLogAction, SyncLogEntry, SyncRun, SyncRunCounts } from '@pm/domain';
import { ScreensRepository, type ScreenScope, type ScreenLogFilter } from '../repositories';

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

const ARROWS = { to_crm: '→', from_crm: '←', none: '·' } as const;

/** Midnight UTC of the day `now` is in: "today" for the counts. */
export function startOfDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
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

export function logLineView(entry: SyncLogEntry): LogLineView {
  const connection = entry.connection as { id: string; provider?: string };
  return {
    id: String(entry.id),
    at: entry.at.toISOString(),
    connectionId: connection.id,
    provider: connection.provider ?? null,
    arrow: ARROWS[entry.direction] ?? '·',
    direction: entry.direction,
    object: entry.object,
    recordKey: entry.recordKey ?? null,
    action: entry.action,
    message: entry.message,
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
 * Today's counts and the sync log as the Sync Activity page and the home page show them. One service on purpose:
 * where the API gains its own counts and filtered log, this is the one place to point at them.
 */
@Injectable()
export class SyncActivityService {
  constructor(private readonly screens: ScreensRepository) {}

  async todayCounts(scope: ScreenScope, now = new Date()): Promise<TodayCounts> {
    const since = startOfDay(now);
    const count = (actions: SyncLogAction[]) => this.screens.countSince(scope, since, actions);
    const [contactsSynced, activitiesLogged, conflictsResolved, errors] = await Promise.all([
      count(['created', 'updated', 'deleted']),
      count(['activity_logged']),
      count(['conflict_resolved']),
      count(['error']),
    ]);
    return { contactsSynced, activitiesLogged, conflictsResolved, errors };
  }

  async log(
    filter: ScreenLogFilter,
    page: { page: number; pageSize: number },
  ): Promise<{ lines: LogLineView[]; total: number; page: number; pageSize: number }> {
    const pageSize = Math.min(Math.max(page.pageSize, 1), 100);
    const number = Math.max(page.page, 1);
    const { rows, total } = await this.screens.listLog(filter, {
      offset: (number - 1) * pageSize,
      limit: pageSize,
    });
    return { lines: rows.map(logLineView), total, page: number, pageSize };
  }

  async recentRuns(scope: ScreenScope, limit: number): Promise<RunView[]> {
    return (await this.screens.listRuns(scope, limit)).map(runView);
  }
}
