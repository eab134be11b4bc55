import { Injectable } from '@nestjs/common';
import { newId, RecordLink } from '@pm/domain';
import { LOCAL_CONTACT_OBJECT, type LinkSnapshot, type LinkStore, type UnlinkReason } from '@pm/sync-engine';
import { CrmRepository, insertRows, type RowColumn } from './base.repository';

/**
 * `l.id in (…)`: the links of one connection and object holding any of these keys, found by one index probe per
 * key. Each key is looked up in a lateral subquery the planner may not flatten (`offset 0`), so it searches the
 * (connection, object, key) index for the key itself whatever the table's statistics say; the outer query must not
 * repeat the connection or object (with them, and no statistics yet on a connection's freshly written links,
 * PostgreSQL scans every link of the connection per call: 13 ms at 50k links for 4 ids, against 0.25 ms). The keys
 * travel as one JSON array in one parameter, whatever the page size. Parameters: keys (JSON), connection, object.
 */
export function linksWithKeys(
  keyColumn: 'crm_id' | 'local_id',
  objectColumn: 'crm_object' | 'local_object',
  type: 'text' | 'uuid',
): string {
  return (
    `l.id in (select r.id from jsonb_array_elements_text(?::jsonb) as keys(key) cross join lateral ` +
    `(select r.id from record_links r where r.connection_id = ? and r.${objectColumn} = ? ` +
    `and r.${keyColumn} = keys.key::${type} offset 0) r)`
  );
}

/** A link's columns as plain values (QueryBuilder rows mapped to property names, no entity). */
type RecordLinkRow = Omit<RecordLink, 'connection'>;

/** A new link's columns, in the order `save` lists its values (the connection is shared by every row). */
const LINK_COLUMNS: RowColumn[] = [
  ['id', 'uuid'],
  ['local_object', 'text'],
  ['local_id', 'uuid'],
  ['crm_object', 'text'],
  ['crm_id', 'text'],
  ['synced', 'jsonb'],
  ['local_updated_at', 'timestamptz'],
  ['crm_modified_at', 'timestamptz'],
  ['last_synced_at', 'timestamptz'],
  ['created_at', 'timestamptz'],
];

function toSnapshot(link: RecordLinkRow): LinkSnapshot {
  return {
    id: link.id,
    localObject: link.localObject,
    localId: link.localId,
    crmObject: link.crmObject,
    crmId: link.crmId,
    synced: link.synced,
    localUpdatedAt: link.localUpdatedAt ?? null,
    crmModifiedAt: link.crmModifiedAt ?? null,
    lastSyncedAt: link.lastSyncedAt ?? null,
  };
}

/** Links between local records and CRM records: the engine's `LinkStore`, plus the provenance view. */
@Injectable()
export class RecordLinkRepository extends CrmRepository implements LinkStore {
  async findByCrmIds(connectionId: string, crmObject: string, crmIds: string[]): Promise<LinkSnapshot[]> {
    if (crmIds.length === 0) return [];
    const links = await this.fork()
      .createQueryBuilder(RecordLink, 'l')
      // (connection, crm_object, crm_id) is the unique index.
      .where(linksWithKeys('crm_id', 'crm_object', 'text'), [JSON.stringify(crmIds), connectionId, crmObject])
      .andWhere({ unlinkedAt: null })
      // Plain rows: the engine only reads them (no entity, identity map or snapshot per link).
      .execute<RecordLinkRow[]>('all', true);
    return links.map(toSnapshot);
  }

  /**
   * Links of local contacts (or of another local object: companies): naming the local object lets the
   * (connection, local_object, local_id) index find each id instead of scanning every link of the connection.
   */
  async findByLocalIds(
    connectionId: string,
    localIds: string[],
    localObject: string = LOCAL_CONTACT_OBJECT,
  ): Promise<LinkSnapshot[]> {
    if (localIds.length === 0) return [];
    const links = await this.fork()
      .createQueryBuilder(RecordLink, 'l')
      .where(linksWithKeys('local_id', 'local_object', 'uuid'), [
        JSON.stringify(localIds),
        connectionId,
        localObject,
      ])
      .andWhere({ unlinkedAt: null })
      .execute<RecordLinkRow[]>('all', true);
    return links.map(toSnapshot);
  }

  async findDeletedInCrmLocalIds(
    connectionId: string,
    localIds: string[],
    localObject: string = LOCAL_CONTACT_OBJECT,
  ): Promise<string[]> {
    if (localIds.length === 0) return [];
    const links = await this.fork()
      .createQueryBuilder(RecordLink, 'l')
      .select(['l.id', 'l.localId', 'l.unlinkedAt', 'l.unlinkReason'])
      .where(linksWithKeys('local_id', 'local_object', 'uuid'), [
        JSON.stringify(localIds),
        connectionId,
        localObject,
      ])
      .execute<Pick<RecordLinkRow, 'id' | 'localId' | 'unlinkedAt' | 'unlinkReason'>[]>('all', true);
    const active = new Set(links.filter((link) => !link.unlinkedAt).map((link) => link.localId));
    const deletedInCrm = links.filter((link) => link.unlinkedAt && link.unlinkReason === 'deleted_in_crm');
    return [...new Set(deletedInCrm.filter((link) => !active.has(link.localId)).map((link) => link.localId))];
  }

  async save(connectionId: string, links: LinkSnapshot[]): Promise<void> {
    if (links.length === 0) return;
    const em = this.fork();
    // One lookup per CRM object with the ids as one array (not an OR per link, which slows down and runs out of
    // bind parameters on large pages); each id probes the (connection, crm_object, crm_id) unique index.
    const idsByObject = new Map<string, string[]>();
    for (const link of links) {
      const ids = idsByObject.get(link.crmObject) ?? [];
      ids.push(link.crmId);
      idsByObject.set(link.crmObject, ids);
    }
    const byKey = new Map<string, RecordLink>();
    for (const [crmObject, crmIds] of idsByObject) {
      const existing = await em
        .createQueryBuilder(RecordLink, 'l')
        .where(linksWithKeys('crm_id', 'crm_object', 'text'), [
          JSON.stringify(crmIds),
          connectionId,
          crmObject,
        ])
        .getResultList();
      for (const link of existing) byKey.set(`${link.crmObject}|${link.crmId}`, link);
    }
    // New links go in as one native insert (no entity, change set or snapshot each: a first sync's pages are all
    // new links); existing ones are updated through the unit of work.
    const created = new Map<string, unknown[]>();
    const createdAt = new Date();
    for (const snapshot of links) {
      const key = `${snapshot.crmObject}|${snapshot.crmId}`;
      const values = {
        localId: snapshot.localId,
        synced: snapshot.synced,
        localUpdatedAt: snapshot.localUpdatedAt,
        crmModifiedAt: snapshot.crmModifiedAt,
        lastSyncedAt: snapshot.lastSyncedAt,
        unlinkedAt: null,
        unlinkReason: null,
      };
      const link = byKey.get(key);
      if (link) {
        Object.assign(link, values);
        continue;
      }
      // The same CRM record twice in one call: the later snapshot wins, as it did for a loaded link.
      created.set(key, [
        created.get(key)?.[0] ?? newId(),
        snapshot.localObject,
        snapshot.localId,
        snapshot.crmObject,
        snapshot.crmId,
        snapshot.synced,
        snapshot.localUpdatedAt,
        snapshot.crmModifiedAt,
        snapshot.lastSyncedAt,
        createdAt,
      ]);
    }
    // One transaction, as a single flush was: the page's links are saved whole or not at all.
    await em.transactional(async (tx) => {
      await insertRows(tx, 'record_links', [['connection_id', 'uuid', connectionId]], LINK_COLUMNS, [
        ...created.values(),
      ]);
    });
  }

  async unlink(
    connectionId: string,
    crmObject: string,
    crmId: string,
    reason: UnlinkReason,
    at: Date,
  ): Promise<void> {
    await this.fork().nativeUpdate(
      RecordLink,
      { connection: connectionId, crmObject, crmId, unlinkedAt: null },
      { unlinkedAt: at, unlinkReason: reason },
    );
  }

  /** Every link of the contact in this connection (unlinked ones too), newest first. */
  contactLinks(connectionId: string, contactId: string): Promise<RecordLink[]> {
    return this.fork().find(
      RecordLink,
      { connection: connectionId, localObject: LOCAL_CONTACT_OBJECT, localId: contactId },
      { orderBy: { createdAt: 'desc' } },
    );
  }

  /** Forgets every link of the connection (the user replaced its CRM account). */
  async deleteForConnection(connectionId: string): Promise<void> {
    await this.fork().nativeDelete(RecordLink, { connection: connectionId });
  }
}
