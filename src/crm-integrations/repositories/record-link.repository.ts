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

/** The columns of a link the engine reads, as the driver returns them (timestamps parsed, JSON parsed). */
interface LinkRow {
  id: string;
  local_object: string;
  local_id: string;
  crm_object: string;
  crm_id: string;
  synced: LinkSnapshot['synced'];
  /** Timestamps as PostgreSQL's text (the driver leaves them to MikroORM's mapping, which this skips). */
  local_updated_at: string | null;
  crm_modified_at: string | null;
  last_synced_at: string | null;
}

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

function toSnapshot(link: LinkRow, parseDate: (value: string | null) => Date | null): LinkSnapshot {
  return {
    id: link.id,
    localObject: link.local_object,
    localId: link.local_id,
    crmObject: link.crm_object,
    crmId: link.crm_id,
    synced: link.synced,
    localUpdatedAt: parseDate(link.local_updated_at),
    crmModifiedAt: parseDate(link.crm_modified_at),
    lastSyncedAt: parseDate(link.last_synced_at),
  };
}

/** Links between local records and CRM records: the engine's `LinkStore`, plus the provenance view. */
@Injectable()
export class RecordLinkRepository extends CrmRepository implements LinkStore {
  async findByCrmIds(connectionId: string, crmObject: string, crmIds: string[]): Promise<LinkSnapshot[]> {
    if (crmIds.length === 0) return [];
    // (connection, crm_object, crm_id) is the unique index.
    return this.activeLinks(linksWithKeys('crm_id', 'crm_object', 'text'), [
      JSON.stringify(crmIds),
      connectionId,
      crmObject,
    ]);
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
    return this.activeLinks(linksWithKeys('local_id', 'local_object', 'uuid'), [
      JSON.stringify(localIds),
      connectionId,
      localObject,
    ]);
  }

  /**
   * Active links meeting `condition`, as plain rows mapped by hand: the engine only reads them, and MikroORM's
   * result mapping (every column of every row, for a page of thousands) cost more than the query.
   */
  private async activeLinks(condition: string, params: unknown[]): Promise<LinkSnapshot[]> {
    const em = this.fork();
    const rows = await em.execute<LinkRow[]>(
      `select l.id, l.local_object, l.local_id, l.crm_object, l.crm_id, l.synced, l.local_updated_at, ` +
        `l.crm_modified_at, l.last_synced_at from "record_links" as l where ${condition} and l.unlinked_at is null`,
      params,
    );
    const platform = em.getPlatform();
    return rows.map((row) =>
      toSnapshot(row, (value) => (value === null ? null : (platform.parseDate(value) as Date))),
    );
  }

  async findDeletedInCrmLocalIds(
    connectionId: string,
    localIds: string[],
    localObject: string = LOCAL_CONTACT_OBJECT,
  ): Promise<string[]> {
    if (localIds.length === 0) return [];
    const links = await this.fork().execute<
      { local_id: string; unlinked_at: string | null; unlink_reason: string | null }[]
    >(
      `select l.local_id, l.unlinked_at, l.unlink_reason from "record_links" as l where ` +
        linksWithKeys('local_id', 'local_object', 'uuid'),
      [JSON.stringify(localIds), connectionId, localObject],
    );
    const active = new Set(links.filter((link) => !link.unlinked_at).map((link) => link.local_id));
    const deletedInCrm = links.filter((link) => link.unlinked_at && link.unlink_reason === 'deleted_in_crm');
    return [
      ...new Set(deletedInCrm.filter((link) => !active.has(link.local_id)).map((link) => link.local_id)),
    ];
  }

  /**
   * One statement per call, whatever the page holds: new links are inserted and existing ones (same connection,
   * CRM object and id, unlinked ones included) take the snapshot's values and are active again, keeping their id,
   * local object and creation time. A single statement is atomic, so the page's links are saved whole or not at
   * all, and a link another worker inserted meanwhile is updated rather than refused. Looking existing links up
   * first (and updating them as entities) cost three more round trips and a hydrated entity per known link.
   */
  async save(connectionId: string, links: LinkSnapshot[]): Promise<void> {
    if (links.length === 0) return;
    // The same CRM record twice in one call: the later snapshot wins (one statement may not update a row twice).
    const byKey = new Map<string, LinkSnapshot>();
    for (const snapshot of links) byKey.set(`${snapshot.crmObject}|${snapshot.crmId}`, snapshot);
    const createdAt = new Date();
    await insertRows(
      this.fork(),
      'record_links',
      [['connection_id', 'uuid', connectionId]],
      LINK_COLUMNS,
      [...byKey.values()].map((snapshot) => [
        newId(),
        snapshot.localObject,
        snapshot.localId,
        snapshot.crmObject,
        snapshot.crmId,
        snapshot.synced,
        snapshot.localUpdatedAt,
        snapshot.crmModifiedAt,
        snapshot.lastSyncedAt,
        createdAt,
      ]),
      `on conflict ("connection_id", "crm_object", "crm_id") do update set ` +
        `"local_id" = excluded."local_id", "synced" = excluded."synced", ` +
        `"local_updated_at" = excluded."local_updated_at", "crm_modified_at" = excluded."crm_modified_at", ` +
        `"last_synced_at" = excluded."last_synced_at", "unlinked_at" = null, "unlink_reason" = null`,
    );
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
