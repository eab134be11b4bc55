export * from './field-mapping.dto';
export * from './field-mapping.service';
export * from './field-mappings.controller';
export * from './mapping-recomparison';
export * from './stored-field-mapping.source';

import { FieldMappingService } from './field-mapping.service';
import { MappingRecomparison } from './mapping-recomparison';
import { StoredFieldMappingSource } from './stored-field-mapping.source';
import { EngineFieldMappings } from './engine-field-mappings';

/** Providers the feature module registers for field mapping. */
export const MAPPING_PROVIDERS = [
  FieldMappingService,
  MappingRecomparison,
  StoredFieldMappingSource,
  EngineFieldMappings,
];
