import { Max } from 'class-validator';

/**
 * The API's limits, in one place: the README's "API limits" section and the OpenAPI descriptions name the same
 * numbers. Bodies past a size limit are a 413, a page size or batch past its limit a 422 (a batch of activities
 * past its count is a 413, as that body is refused whole), each problem+json naming the limit in `invalidParams`.
 */
export const API_LIMITS = {
  /** JSON bodies (body-parser's default), except the activity ingest. */
  bodyBytes: '100 kB',
  /** The activity ingest's JSON body: 1,000 events with reply snippets. */
  activityBodyBytes: '5 MB',
  /** Lines or rows per page of any list. */
  pageSize: 500,
} as const;

/** Marks a constraint whose violation is a limit (422), not a malformed value (400). */
export const LIMIT_CONTEXT = { limitExceeded: true } as const;

/** A page size: over `max` is a 422 naming the limit. */
export function MaxPageSize(max: number = API_LIMITS.pageSize): PropertyDecorator {
  return Max(max, {
    message: (args) => `${args.property} must not be greater than ${max} (the page size limit)`,
    context: LIMIT_CONTEXT,
  });
}
