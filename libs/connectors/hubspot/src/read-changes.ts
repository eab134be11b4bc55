import { FilterOperatorEnum, type Filter } from '@hubspot/api-client/lib/codegen/crm/objects';
import { compareByCursorPosition, readWindowStart } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  type ChangePage,
  type CrmRecord,
  type DeletedRecord,
  type ReadChangesRequest,
} from '@pm/integration-port';
import { addHubSpotAssociations } from './associations';
import type { HubSpotCall } from './client';
import {
  HUBSPOT_DEFAULT_READ_OVERLAP_MS,
  HUBSPOT_MAX_LIST_PAGE,
  HUBSPOT_MAX_SEARCH_PAGE,
  HUBSPOT_PROVIDER,
  type HubSpotConnectorConfig,
  type HubSpotObjectInfo,
} from './config';
import { propertiesToRead, requireObject, toCrmRecord, type SdkObject } from './records';

/*
 * Reading changes with CRM search, sorted by the modification time, without ever paging by offset.
 *
 * HubSpot search pages by an offset (`after`) and refuses any offset at or past 10,000, and it sorts by one
 * property only, so ties at one instant come back in no promised order. So every query starts where the last
 * one stopped, and the offset is always 0:
 *  - range: `modified >= from` (or `>`), sorted by time. A full page is returned whole; its last instant may
 *    continue on the next page, so the next range starts at that instant (inclusive) leaving out the ids it already
 *    returned there (`hs_object_id NOT_IN seen`; `seen` is in the token). No one-record follow-up search per page.
 *  - group: `modified == at AND hs_object_id > afterId`, sorted by id: the records sharing one instant, in id
 *    order, however many thousands there are — used only when a whole page shares one instant.
 * Each query is a new time window starting at the last position read, which is the "split the window" answer to
 * the 10,000 cap taken to its end: no window ever needs an offset. The position lives in the page token.
 *
 * Deletions: HubSpot search never returns archived records and has no "archived since" filter, so the last pages
 * of an incremental read scan the recycle bin (`GET /crm/v3/objects/{type}?archived=true`, kept 90 days) and report
 * records archived since the read's window start. A first read (no cursor) has nothing to delete and skips it.
 */

/** Values one IN / NOT_IN search filter takes. */
const HUBSPOT_MAX_FILTER_VALUES = 100;

type ReadState =
  /** `seen`: ids already returned at the instant `from` (a full page's last instant). */
  | { phase: 'range'; from: number | null; inclusive: boolean; seen?: string[] }
  | { phase: 'group'; at: number; afterId?: string; seen?: string[] }
  | { phase: 'deleted'; after?: string };

interface PageToken {
  v: 1;
  object: string;
  /** The read's window start (epoch ms), for the deletion scan; null on a first read. */
  windowStart: number | null;
  state: ReadState;
}

function encodeToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token), 'utf8').toString('base64url');
}

function decodeToken(raw: string, object: string): PageToken {
  try {
    const token = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as PageToken;
    const phase = (token?.state as { phase?: unknown } | undefined)?.phase;
    if (token.v === 1 && token.object === object && ['range', 'group', 'deleted'].includes(String(phase))) {
      return token;
    }
  } catch {
    // Reported below.
  }
  throw new CrmError(CrmErrorCode.VALIDATION_FAILED, `Not a HubSpot page token for ${object}`, {
    provider: HUBSPOT_PROVIDER,
  });
}

function epochMs(iso: string): number {
  return new Date(iso).getTime();
}

/** The page without the records already returned at the instant `at` (the `seen` ids of a range's token). */
function withoutSeen(page: CrmRecord[], at: number | null, seen: string[] | undefined): CrmRecord[] {
  if (seen === undefined || seen.length === 0 || at === null) return page;
  const ids = new Set(seen);
  return page.filter((record) => !(ids.has(record.id) && epochMs(record.modifiedAt) === at));
}

export class HubSpotChangeReader {
  constructor(private readonly config: HubSpotConnectorConfig) {}

  async readChanges(call: HubSpotCall, request: ReadChangesRequest): Promise<ChangePage> {
    const info = requireObject(request.object);
    const pageSize = Math.max(1, Math.min(request.pageSize ?? 100, HUBSPOT_MAX_SEARCH_PAGE));
    const token =
      request.pageToken === undefined || request.pageToken === ''
        ? this.firstToken(request)
        : decodeToken(request.pageToken, request.object);
    const properties = propertiesToRead(info, request.fields);
    const { state } = token;

    if (state.phase === 'deleted') return this.readDeleted(call, info, token, state.after);

    let records: CrmRecord[];
    let next: ReadState | undefined;
    if (state.phase === 'group') {
      ({ records, next } = await this.readGroup(call, info, properties, pageSize, state));
    } else {
      ({ records, next } = await this.readRange(call, info, properties, pageSize, state));
    }
    if (next === undefined && this.reportsDeletions(info, token)) next = { phase: 'deleted' };
    await addHubSpotAssociations(call, info, records, request.associations);
    return {
      records,
      deleted: [],
      ...(next === undefined ? {} : { nextPageToken: encodeToken({ ...token, state: next }) }),
    };
  }

  private firstToken(request: ReadChangesRequest): PageToken {
    const start = readWindowStart(
      request.since,
      this.config.readOverlapMs ?? HUBSPOT_DEFAULT_READ_OVERLAP_MS,
    );
    const from = start === null ? null : epochMs(start);
    return {
      v: 1,
      object: request.object,
      windowStart: from,
      state: { phase: 'range', from, inclusive: true },
    };
  }

  private reportsDeletions(info: HubSpotObjectInfo, token: PageToken): boolean {
    return (
      token.windowStart !== null && info.capability.reportsDeletions && this.config.reportDeletions !== false
    );
  }

  private async readRange(
    call: HubSpotCall,
    info: HubSpotObjectInfo,
    properties: string[],
    pageSize: number,
    state: { from: number | null; inclusive: boolean; seen?: string[] },
  ): Promise<{ records: CrmRecord[]; next?: ReadState }> {
    const filters: Filter[] =
      state.from === null
        ? []
        : [
            {
              propertyName: info.modifiedProperty,
              operator: state.inclusive ? FilterOperatorEnum.Gte : FilterOperatorEnum.Gt,
              value: String(state.from),
            },
            // The ids already returned at that instant are left out by the search itself, so the page is all new.
            ...(state.seen?.length
              ? [{ propertyName: 'hs_object_id', operator: FilterOperatorEnum.NotIn, values: state.seen }]
              : []),
          ];
    const { results, total } = await this.search(
      call,
      info,
      filters,
      info.modifiedProperty,
      properties,
      pageSize,
    );
    const page = results.map((result) => toCrmRecord(info, result)).sort(compareByCursorPosition);
    const records = withoutSeen(page, state.from, state.seen);
    // A short page, or a full one that holds every match the search counted: the read is done.
    if (page.length < pageSize || total <= page.length) return { records };

    // The page is full: records at its last instant may go on past it. The next range starts at that instant and
    // leaves out the ids returned here.
    const at = epochMs(page[page.length - 1].modifiedAt);
    if (at === state.from) {
      // The whole page shares the instant the range started at: read that instant by id instead.
      return this.readGroup(call, info, properties, pageSize, { at, seen: state.seen });
    }
    const seen = page.filter((record) => epochMs(record.modifiedAt) === at).map((record) => record.id);
    // More ids at that instant than one NOT_IN filter takes (a bulk import): read the instant by id instead.
    if (seen.length > HUBSPOT_MAX_FILTER_VALUES) return { records, next: { phase: 'group', at, seen } };
    return { records, next: { phase: 'range', from: at, inclusive: true, seen } };
  }

  private async readGroup(
    call: HubSpotCall,
    info: HubSpotObjectInfo,
    properties: string[],
    pageSize: number,
    state: { at: number; afterId?: string; seen?: string[] },
  ): Promise<{ records: CrmRecord[]; next?: ReadState }> {
    const { at, afterId, seen } = state;
    const filters: Filter[] = [
      { propertyName: info.modifiedProperty, operator: FilterOperatorEnum.Eq, value: String(at) },
      ...(afterId === undefined
        ? []
        : [{ propertyName: 'hs_object_id', operator: FilterOperatorEnum.Gt, value: afterId }]),
    ];
    const { results, total } = await this.search(call, info, filters, 'hs_object_id', properties, pageSize);
    const page = results.map((result) => toCrmRecord(info, result)).sort(compareByCursorPosition);
    const records = withoutSeen(page, at, seen);
    if (page.length === pageSize && total > page.length) {
      return { records, next: { phase: 'group', at, afterId: page[page.length - 1].id, seen } };
    }
    return { records, next: { phase: 'range', from: at, inclusive: false } };
  }

  private async search(
    call: HubSpotCall,
    info: HubSpotObjectInfo,
    filters: Filter[],
    sortProperty: string,
    properties: string[],
    limit: number,
  ): Promise<{ results: SdkObject[]; total: number }> {
    const page = await call.run(() =>
      call.objects.searchApi.doSearch(
        info.capability.name,
        {
          filterGroups: filters.length === 0 ? [] : [{ filters }],
          // The SDK types sorts as strings but sends them as given; HubSpot documents the object form.
          sorts: [{ propertyName: sortProperty, direction: 'ASCENDING' } as unknown as string],
          properties,
          limit,
        },
        call.options,
      ),
    );
    // `total` counts every match of the query; where it is missing, assume more may follow a full page.
    return {
      results: page.results,
      total: Number.isFinite(page.total) ? page.total : Number.POSITIVE_INFINITY,
    };
  }

  private async readDeleted(
    call: HubSpotCall,
    info: HubSpotObjectInfo,
    token: PageToken,
    after: string | undefined,
  ): Promise<ChangePage> {
    const page = await call.run(() =>
      call.objects.basicApi.getPage(
        info.capability.name,
        HUBSPOT_MAX_LIST_PAGE,
        after,
        [info.modifiedProperty],
        undefined,
        undefined,
        true,
        call.options,
      ),
    );
    const windowStart = token.windowStart ?? 0;
    const deleted: DeletedRecord[] = page.results
      .filter((result) => result.archivedAt !== undefined && result.archivedAt.getTime() >= windowStart)
      .map((result) => ({
        id: result.id,
        object: info.capability.name,
        deletedAt: (result.archivedAt as Date).toISOString(),
      }));
    const nextAfter = page.paging?.next?.after;
    return {
      records: [],
      deleted,
      ...(nextAfter
        ? { nextPageToken: encodeToken({ ...token, state: { phase: 'deleted', after: nextAfter } }) }
        : {}),
    };
  }
}
