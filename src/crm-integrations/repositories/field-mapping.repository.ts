import { Injectable } from '@nestjs/common';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { CrmConnection, CrmFieldCache, FieldMappingConfig } from '@pm/domain';
import {
  customFieldName,
  LOCAL_COMPANY_FIELDS,
  LOCAL_CONTACT_FIELDS,
  type FieldDescriptor,
  type ObjectMapping,
} from '@pm/integration-port';
import { canonicalJson } from '@pm/sync-engine';
import { CrmRepository } from './base.repository';

/** A contact or company column by its field name (`firstName` → `first_name`); only standard fields reach here. */
const columnOf = (field: string): string => field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/** Tenants' field mappings per connection and object, and the CRM fields each connection described. */
@Injectable()
export class FieldMappingRepository extends CrmRepository {
  async find(connectionId: string, object: string): Promise<FieldMappingConfig | null> {
    return this.fork().findOne(FieldMappingConfig, { connection: connectionId, object });
  }

  async listForConnection(connectionId: string): Promise<FieldMappingConfig[]> {
    return this.fork().find(FieldMappingConfig, { connection: connectionId }, { orderBy: { object: 'asc' } });
  }

  /**
   * The stored mapping, or `seed` stored as version 1 when there is none yet (or when the stored one was never
   * edited and the seed has changed). Two callers seeding at once (a sync
   * and the mapping screen) both end with the one row that won.
   */
  async findOrSeed(connectionId: string, object: string, seed: ObjectMapping): Promise<FieldMappingConfig> {
    const found = await this.find(connectionId, object);
    // Never edited: it follows the connector's defaults, should a new connector version change them.
    if (found?.updatedBy === null && canonicalJson(found.mapping) !== canonicalJson(seed)) {
      const em = this.fork();
      const row = await em.findOneOrFail(FieldMappingConfig, { id: found.id });
      if (row.updatedBy === null) row.mapping = seed;
      await em.flush();
      return row;
    }
    if (found) return found;
    const em = this.fork();
    const row = em.create(FieldMappingConfig, {
      connection: em.getReference(CrmConnection, connectionId),
      object,
      mapping: seed,
      updatedBy: null,
    });
    try {
      await em.flush();
      return row;
    } catch (error) {
      if (!(error instanceof UniqueConstraintViolationException)) throw error;
      return (await this.find(connectionId, object)) as FieldMappingConfig;
    }
  }

  /** Saves a new version of the mapping; returns it with the version it replaced (0: there was none). */
  async save(
    connectionId: string,
    object: string,
    mapping: ObjectMapping,
    actor: string,
  ): Promise<{ saved: FieldMappingConfig; previous: ObjectMapping | null; previousVersion: number }> {
    const em = this.fork();
    const existing = await em.findOne(FieldMappingConfig, { connection: connectionId, object });
    const previous = existing ? structuredClone(existing.mapping) : null;
    const previousVersion = existing?.version ?? 0;
    const row =
      existing ??
      em.create(FieldMappingConfig, {
        connection: em.getReference(CrmConnection, connectionId),
        object,
        mapping,
        version: 0,
      });
    row.mapping = mapping;
    row.version = previousVersion + 1;
    row.updatedBy = actor;
    await em.flush();
    return { saved: row, previous, previousVersion };
  }

  async fieldCache(connectionId: string, object: string): Promise<CrmFieldCache | null> {
    return this.fork().findOne(CrmFieldCache, { connection: connectionId, object });
  }

  async saveFieldCache(
    connectionId: string,
    object: string,
    fields: FieldDescriptor[],
    fetchedAt: Date,
  ): Promise<CrmFieldCache> {
    const em = this.fork();
    const row =
      (await em.findOne(CrmFieldCache, { connection: connectionId, object })) ??
      em.create(CrmFieldCache, {
        connection: em.getReference(CrmConnection, connectionId),
        object,
        fields,
        fetchedAt,
      });
    row.fields = fields;
    row.fetchedAt = fetchedAt;
    await em.flush();
    return row;
  }

  /** Active links of the connection's `object`. */
  async countLinks(connectionId: string, object: string): Promise<number> {
    const [row] = await this.fork()
      .getConnection()
      .execute<
        { count: string }[]
      >('select count(*) as count from record_links where connection_id = ? and crm_object = ? and unlinked_at is null', [connectionId, object]);
    return Number(row?.count ?? 0);
  }

  /**
   * Linked records of `object` whose PenguinMails value of any of `fields` differs from the value last synced: the
   * ones a re-comparison will write after a change of direction or key (the CRM side is compared on the run).
   * `subject`: whether the object's records are contacts or companies locally.
   */
  async countLinksWithLocalChanges(
    connectionId: string,
    object: string,
    fields: string[],
    subject: 'contact' | 'company' = 'contact',
  ): Promise<number> {
    if (fields.length === 0) return 0;
    const params: unknown[] = [connectionId, object];
    const standard: readonly string[] = subject === 'company' ? LOCAL_COMPANY_FIELDS : LOCAL_CONTACT_FIELDS;
    const differs = fields.map((field) => {
      const custom = customFieldName(field);
      if (custom === undefined && !standard.includes(field)) {
        throw new Error(`Not a ${subject} field: ${field}`);
      }
      const local = custom === undefined ? `c."${columnOf(field)}"` : `c.custom_fields->>?`;
      if (custom !== undefined) params.push(custom);
      params.push(field);
      return `coalesce(nullif(btrim(${local}), ''), '') <> coalesce(l.synced->?->>'value', '')`;
    });
    const [row] = await this.fork()
      .getConnection()
      .execute<{ count: string }[]>(
        `select count(*) as count from record_links l join ${subject === 'company' ? 'companies' : 'contacts'} c on c.id = l.local_id
         where l.connection_id = ? and l.crm_object = ? and l.unlinked_at is null and c.deleted_at is null
           and (${differs.join(' or ')})`,
        params,
      );
    return Number(row?.count ?? 0);
  }
}
