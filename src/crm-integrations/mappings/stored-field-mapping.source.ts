import { Injectable } from '@nestjs/common';
import { IntegrationPortRegistry, type CompanyObjectMapping, type ObjectMapping } from '@pm/integration-port';
import {
  companyMappingAsObjectMapping,
  DefaultCompanyMappingSource,
  objectMappingAsCompanyMapping,
  DefaultFieldMappingSource,
  type CompanyMappingSource,
  type FieldMappingSource,
  type MappingConnection,
} from '@pm/sync-engine';
import { FieldMappingRepository } from '../repositories';

/**
 * The engine's mappings in the product: the tenant's stored mapping of the connection's object, seeded from the
 * connector's defaults the first time it is asked (so a connection syncs before anyone opens the mapping screen).
 * Contact objects and company objects (Account, companies, organizations) alike; an object the connector has no
 * default for is not synced.
 */
@Injectable()
export class StoredFieldMappingSource implements FieldMappingSource, CompanyMappingSource {
  constructor(
    private readonly mappings: FieldMappingRepository,
    private readonly registry: IntegrationPortRegistry,
  ) {}

  async mappingFor(connection: MappingConnection, object: string): Promise<ObjectMapping | undefined> {
    if (!this.registry.has(connection.provider)) return undefined;
    const defaults = new DefaultFieldMappingSource(this.registry.get(connection.provider)).mappingFor(
      null,
      object,
    );
    if (!defaults) return undefined;
    return (await this.mappings.findOrSeed(connection.id, object, defaults)).mapping;
  }

  async companyMappingFor(
    connection: MappingConnection,
    object: string,
  ): Promise<CompanyObjectMapping | undefined> {
    if (!this.registry.has(connection.provider)) return undefined;
    const defaults = new DefaultCompanyMappingSource(
      this.registry.get(connection.provider).capabilities(),
    ).companyMappingFor(null, object);
    if (!defaults) return undefined;
    const stored = await this.mappings.findOrSeed(
      connection.id,
      object,
      companyMappingAsObjectMapping(defaults),
    );
    return objectMappingAsCompanyMapping(stored.mapping, defaults.associates);
  }
}
