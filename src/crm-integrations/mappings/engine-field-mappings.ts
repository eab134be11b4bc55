import { Inject, Injectable, Optional } from '@nestjs/common';
import type { ObjectMapping } from '@pm/integration-port';
import type {
  CompanyMappingSource,
  CompanyObjectMapping,
  FieldMappingSource,
  MappingConnection,
} from '@pm/sync-engine';
import { StoredFieldMappingSource } from './stored-field-mapping.source';

/** DI token for a `FieldMappingSource` a host binds to replace the tenant's stored mappings. */
export const SYNC_FIELD_MAPPINGS = Symbol('SYNC_FIELD_MAPPINGS');

/**
 * The mappings every engine run reads (scheduled sync, reconcile, targeted sync, immediate push, contacts created
 * for e-mail events): a host's `SYNC_FIELD_MAPPINGS` when bound, else the tenant's stored mappings. One provider,
 * so no run can sync with other mappings than the rest.
 */
@Injectable()
export class EngineFieldMappings implements FieldMappingSource, CompanyMappingSource {
  constructor(
    private readonly stored: StoredFieldMappingSource,
    @Optional() @Inject(SYNC_FIELD_MAPPINGS) private readonly override?: FieldMappingSource,
  ) {}

  mappingFor(
    connection: MappingConnection,
    object: string,
  ): ObjectMapping | undefined | Promise<ObjectMapping | undefined> {
    return (this.override ?? this.stored).mappingFor(connection, object);
  }

  /** Companies' mappings are the tenant's stored ones (a host's override maps contacts only). */
  companyMappingFor(
    connection: MappingConnection,
    object: string,
  ): Promise<CompanyObjectMapping | undefined> {
    return this.stored.companyMappingFor(connection, object);
  }
}
