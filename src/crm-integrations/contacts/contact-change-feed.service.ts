import { Injectable } from '@nestjs/common';
import type { AuthContext } from '../auth/auth-context';
import { ValidationProblem } from '../http/problem-details.filter';
import { ContactChangeRepository } from '../repositories';
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
    private readonly tenants: TenantService,
  ) {}

  async page(
    _auth: AuthContext,
    tenantId: string,
    query: ContactChangesQuery,
  ): Promise<ContactChangePageDto> {
    const limit = query.limit ?? 100;
    const after =
      query.cursor === 'now' ? null : query.cursor === undefined ? '0' : decodeFeedCursor(query.cursor);
    await this.tenants.require(tenantId);
    const from = after ?? (await this.changes.latestId(tenantId));
    // One more than asked tells whether more wait.
    const rows = await this.changes.page(tenantId, from, limit + 1);
    const page = rows.slice(0, limit);
    return {
      data: page.map((change) => ContactChangeDto.from(change)),
      nextCursor: encodeFeedCursor(page.at(-1)?.id ?? from),
      hasMore: rows.length > limit,
    };
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
