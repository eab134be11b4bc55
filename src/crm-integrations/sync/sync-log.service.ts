import { Injectable } from '@nestjs/common';
import type { SyncLogAction } from '@pm/domain';
import { ConnectionService } from '../connections/connection.service';
import { ValidationProblem } from '../http/problem-details.filter';
import { SyncLogRepository, type SyncLogFilter } from '../repositories';
import { TenantService } from '../tenants/tenant.service';
import { SYNC_LOG_PAGE_DEFAULT, type SyncLogPageDto } from './sync-log.dto';
import { SyncLogEntryResponseDto } from './sync.dto';

/** What a log page may be narrowed by (the API's query, or the AdminJS Sync Activity screen's filters). */
export interface SyncLogPageFilters {
  connectionId?: string;
  runId?: string;
  direction?: 'to_crm' | 'from_crm' | 'none';
  action?: SyncLogAction[];
  errorsOnly?: boolean;
  /** ISO 8601 or a Date; inclusive. */
  from?: string | Date;
  /** ISO 8601 or a Date; exclusive. */
  to?: string | Date;
  cursor?: string;
  limit?: number;
}

/** A cursor is the last line's (time, id), opaque to clients. */
export function encodeLogCursor(line: { at: Date; id: string }): string {
  return Buffer.from(`${line.at.toISOString()}|${line.id}`, 'utf8').toString('base64url');
}

export function decodeLogCursor(cursor: string): { at: Date; id: string } {
  const [at, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const time = new Date(at ?? '');
  if (rest.length > 0 || !/^\d{1,19}$/.test(id ?? '') || Number.isNaN(time.getTime())) {
    throw new ValidationProblem([{ name: 'cursor', reason: 'is not a cursor this log gave out' }]);
  }
  return { at: time, id };
}

/**
 * The sync log, read a page at a time with filters: one connection's or the whole tenant's, newest first, with a
 * cursor that never skips or repeats a line as new ones arrive (new lines are newer than any cursor).
 */
@Injectable()
export class SyncLogService {
  constructor(
    private readonly tenants: TenantService,
    private readonly connections: ConnectionService,
    private readonly log: SyncLogRepository,
  ) {}

  /** One connection's log: 404 when the connection is not the tenant's. Callable inside a request or outside. */
  connectionPage(
    tenantId: string,
    connectionId: string,
    filters: Omit<SyncLogPageFilters, 'connectionId'> = {},
  ): Promise<SyncLogPageDto> {
    return this.log.inContext(async () => {
      await this.connections.require(tenantId, connectionId);
      return this.read(tenantId, { ...filters, connectionId });
    });
  }

  /** The tenant's log across its connections (or one, with `connectionId`): 404 when the tenant does not exist. */
  page(tenantId: string, filters: SyncLogPageFilters = {}): Promise<SyncLogPageDto> {
    return this.log.inContext(async () => {
      await this.tenants.require(tenantId);
      return this.read(tenantId, filters);
    });
  }

  /**
   * Every tenant's log, for a platform admin's screens (no API route reads across tenants). A `connectionId`
   * narrows it as in `page`; whose connection it is, the caller has checked.
   */
  platformPage(filters: SyncLogPageFilters = {}): Promise<SyncLogPageDto> {
    return this.log.inContext(() => this.read(null, filters));
  }

  /**
   * How many lines the filters match (the cursor is ignored): the screens' "Page 2 of 7". tenantId null counts
   * every tenant's, as `platformPage` reads them; the caller has checked the tenant and connection.
   */
  async count(
    tenantId: string | null,
    filters: Omit<SyncLogPageFilters, 'cursor' | 'limit'> = {},
  ): Promise<number> {
    return this.log.count(this.filterOf(tenantId, filters));
  }

  private async read(tenantId: string | null, filters: SyncLogPageFilters): Promise<SyncLogPageDto> {
    const limit = filters.limit ?? SYNC_LOG_PAGE_DEFAULT;
    const filter: SyncLogFilter = {
      ...this.filterOf(tenantId, filters),
      before: filters.cursor ? decodeLogCursor(filters.cursor) : undefined,
      // One line more than the page tells whether another page follows.
      limit: limit + 1,
    };
    const lines = await this.log.page(filter);
    const page = lines.slice(0, limit);
    const last = page[page.length - 1];
    return {
      data: page.map((line) => SyncLogEntryResponseDto.from(line)),
      nextCursor: lines.length > limit && last ? encodeLogCursor(last) : null,
    };
  }

  private filterOf(
    tenantId: string | null,
    filters: SyncLogPageFilters,
  ): Omit<SyncLogFilter, 'before' | 'limit'> {
    const from = filters.from ? new Date(filters.from) : undefined;
    const to = filters.to ? new Date(filters.to) : undefined;
    if (from && to && from.getTime() >= to.getTime()) {
      throw new ValidationProblem([{ name: 'to', reason: 'must be after from' }]);
    }
    return {
      tenantId,
      connectionId: filters.connectionId,
      runId: filters.runId,
      direction: filters.direction,
      actions: this.actions(filters),
      from,
      to,
    };
  }

  private actions(filters: SyncLogPageFilters): SyncLogAction[] | undefined {
    if (!filters.errorsOnly) return filters.action?.length ? filters.action : undefined;
    if (filters.action?.length && !filters.action.includes('error')) {
      throw new ValidationProblem([
        { name: 'errorsOnly', reason: 'shows only errors, and action names no error: nothing could match' },
      ]);
    }
    return ['error'];
  }
}
