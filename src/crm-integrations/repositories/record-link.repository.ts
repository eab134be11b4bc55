import { Injectable } from '@nestjs/common';
import { CrmConnection, RecordLink } from '@pm/domain';
import { LOCAL_CONTACT_OBJECT, type LinkSnapshot, type LinkStore, type UnlinkReason } from '@pm/sync-engine';
import { CrmRepository } from './base.repository';

/**
 * `column = any(<ids>)` with every id in one parameter, whatever the page size: an OR or IN list needs a bind
 * parameter per id (and PostgreSQL takes at most 65535), a long IN list plans slowly. The ids travel as one JSON
 * array (MikroORM inlines parameters, so a JS array would become a list); `any(array(...))` still probes the index.
 */
export function anyId(column: string, type: 'text' | 'uuid'): string {
  return `${column} = any(array(select jsonb_array_elements_text(?::jsonb)::${type}))`;
}

function toSnapshot(link: RecordLink): LinkSnapshot {
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
      .where({ connection: connectionId, crmObject, unlinkedAt: null })
      // (connection, crm_object, crm_id) is the unique index.
      .andWhere(anyId('l.crm_id', 'text'), [JSON.stringify(crmIds)])
      .getResultList();
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
      .where({ connection: connectionId, localObject, unlinkedAt: null })
      .andWhere(anyId('l.local_id', 'uuid'), [JSON.stringify(localIds)])
      .getResultList();
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
      .where({ connection: connectionId, localObject })
      .andWhere(anyId('l.local_id', 'uuid'), [JSON.stringify(localIds)])
      .getResultList();
    const active = new Set(links.filter((link) => !link.unlinkedAt).map((link) => link.localId));
    const deletedInCrm = links.filter((link) => link.unlinkedAt && link.unlinkReason === 'deleted_in_crm');
    return [...new Set(deletedInCrm.filter((link) => !active.has(link.localId)).map((link) => link.localId))];
  }

  async save(connectionId: string, links: LinkSnapshot[]): Promise<void> {
    if (links.length === 0) return;
    const em = this.fork();
    // One lookup per CRM object with the ids as one array (not an OR per link, which slows down and runs out of
    // bind parameters on large pages); each uses the (connection, crm_object, crm_id) unique index.
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
        .where({ connection: connectionId, crmObject })
        .andWhere(anyId('l.crm_id', 'text'), [JSON.stringify(crmIds)])
        .getResultList();
      for (const link of existing) byKey.set(`${link.crmObject}|${link.crmId}`, link);
    }
    for (const snapshot of links) {
      const key = `${snapshot.crmObject}|${snapshot.crmId}`;
      let link = byKey.get(key);
      if (!link) {
        link = em.create(RecordLink, {
          connection: em.getReference(CrmConnection, connectionId),
          localObject: snapshot.localObject,
          localId: snapshot.localId,
          crmObject: snapshot.crmObject,
          crmId: snapshot.crmId,
        });
        byKey.set(key, link);
      }
      link.localId = snapshot.localId;
      link.synced = snapshot.synced;
      link.localUpdatedAt = snapshot.localUpdatedAt;
      link.crmModifiedAt = snapshot.crmModifiedAt;
      link.lastSyncedAt = snapshot.lastSyncedAt;
      link.unlinkedAt = null;
      link.unlinkReason = null;
    }
    await em.flush();
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
