import { Injectable } from '@nestjs/common';
import type { AuthContext } from '../auth/auth-context';
import { GoneProblem, ValidationProblem } from '../http/problem-details.filter';
import { ContactChangeRepository, RetentionRepository } from '../repositories';
import { TenantService } from '../tenants/tenant.service';
import { ContactChangeDto, type ContactChangePageDto, type ContactChangesQuery } from './contact-change.dto';

const CURSOR_PREFIX = 'cf1.';
const POSITION = /^(0|[1-9][0-9]{0,18})$/;

/**
 * The change feed: contact changes the CRMs made, oldest first, paged by an opaque cursor. Entries of a tenant are
 * numbered in commit order (see ContactChangeRepository), so a client that resumes from its last cursor, after any
 * pause or restart on either side, sees every change exactly once.
 */
@Injectable()
export class ContactChangeFeedService {
  constructor(
    private readonly changes: ContactChangeRepository,
    private readonly retention: RetentionRepository,
    private readonly tenants: TenantService,
  ) {}

  async page(
    _auth: AuthContext,
    tenantId: string,
    query: ContactChangesQuery,
  ): Promise<ContactChangePageDto> {
    const limit = query.limit ?? 100;
    const cursor = query.cursor;
    const after = cursor === undefined || cursor === 'now' ? undefined : decodeFeedCursor(cursor);
    await this.tenants.require(tenantId);
    const from =
      after !== undefined
        ? await this.retained(tenantId, after)
        : cursor === 'now'
          ? await this.changes.latestId(tenantId)
          : // No cursor: from the oldest entry kept.
            await this.retention.feedDeletedThrough(tenantId);
    // One more than asked tells whether more wait.
    const rows = await this.changes.page(tenantId, from, limit + 1);
    const page = rows.slice(0, limit);
    return {
      data: page.map((change) => ContactChangeDto.from(change)),
      nextCursor: encodeFeedCursor(page.at(-1)?.id ?? from),
      hasMore: rows.length > limit,
    };
  }

  /**
   * `after`, when every entry after it is still kept; one the retention pass deleted was never read by this reader,
   * which must start again.
   */
  private async retained(tenantId: string, after: string): Promise<string> {
    const deletedThrough = await this.retention.feedDeletedThrough(tenantId);
    if (BigInt(after) < BigInt(deletedThrough)) {
      throw new GoneProblem([
        {
          name: 'cursor',
          reason:
            'has expired: changes after it were deleted by the feed retention; read the contacts again, then follow the feed from cursor=now',
        },
      ]);
    }
    return after;
  }
}

export function encodeFeedCursor(position: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${position}`, 'utf8').toString('base64url');
}

export function decodeFeedCursor(cursor: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const position = text.startsWith(CURSOR_PREFIX) ? text.slice(CURSOR_PREFIX.length) : '';
  if (!POSITION.test(position) || BigInt(position) > BigInt('9223372036854775807')) {
    throw new ValidationProblem([{ name: 'cursor', reason: 'is not a cursor this feed returned' }]);
  }
  return position;
}
