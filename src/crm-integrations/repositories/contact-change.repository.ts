import { Injectable } from '@nestjs/common';
import { ContactChange, Tenant, type ContactChangeKind } from '@pm/domain';
import { CrmRepository, insertRows, type RowColumn } from './base.repository';

export interface NewContactChange {
  contactId: string;
  connectionId: string;
  provider: string;
  kind: ContactChangeKind;
  email: string;
  fields: string[];
  values: Record<string, string | null>;
}

/** An entry's own columns, in the order `insertMany` lists them. */
const CHANGE_COLUMNS: RowColumn[] = [
  ['contact_id', 'uuid'],
  ['connection_id', 'uuid'],
  ['provider', 'text'],
  ['kind', 'text'],
  ['email', 'text'],
  ['fields', 'jsonb'],
  ['values', 'jsonb'],
];

/**
 * The contact change feed. Entries are staged on the request context beside the contact writes and flushed with them
 * by `flushInFeedOrder`, which takes a per-tenant transaction lock before any id is drawn and holds it to commit: a
 * tenant's ids are then handed out in commit order, so a reader that pages by id never passes an id whose
 * transaction commits later (no skipped change, whatever the isolation or timing of concurrent writers).
 */
@Injectable()
export class ContactChangeRepository extends CrmRepository {
  stage(tenantId: string, change: NewContactChange): void {
    this.em.create(ContactChange, { ...change, tenant: this.em.getReference(Tenant, tenantId) });
  }

  /** Entries as one native insert, in feed order, in the request context's transaction (see `flushInFeedOrder`). */
  async insertMany(tenantId: string, changes: NewContactChange[]): Promise<void> {
    await insertRows(
      this.em,
      'contact_changes',
      [
        ['tenant_id', 'text', tenantId],
        ['occurred_at', 'timestamptz', new Date()],
      ],
      CHANGE_COLUMNS,
      changes.map((change) => [
        change.contactId,
        change.connectionId,
        change.provider,
        change.kind,
        change.email,
        change.fields,
        change.values,
      ]),
    );
  }

  /**
   * Flushes the request context in one transaction that holds the tenant's feed lock from before any insert;
   * `inTransaction` (native inserts through the same context) runs under the lock, before the flush.
   */
  async flushInFeedOrder(tenantId: string, inTransaction?: () => Promise<void>): Promise<void> {
    const em = this.em;
    await em.begin();
    try {
      await em.execute(`select pg_advisory_xact_lock(hashtextextended(?, 0))`, [
        `contact_changes:${tenantId}`,
      ]);
      await inTransaction?.();
      await em.commit();
    } catch (error) {
      await em.rollback();
      throw error;
    }
  }

  /** Entries after `afterId`, oldest first. */
  page(tenantId: string, afterId: string, limit: number): Promise<ContactChange[]> {
    return this.fork().find(
      ContactChange,
      { tenant: tenantId, id: { $gt: afterId } },
      { orderBy: { id: 'asc' }, limit },
    );
  }

  /** The newest entry's id ('0' when there is none): where a reader that wants only new changes starts. */
  async latestId(tenantId: string): Promise<string> {
    const [latest] = await this.fork().find(
      ContactChange,
      { tenant: tenantId },
      { orderBy: { id: 'desc' }, limit: 1, fields: ['id'] },
    );
    return latest?.id ?? '0';
  }
}
