export * from './field-mapping.dto';
export * from './field-mapping.service';
export * from './field-mappings.controller';
export * from './mapping-recomparison';
export * from './stored-field-mapping.source';
export * from './field-mapping-screen.source';

import { FIELD_MAPPING_SCREEN_SOURCE } from '../screens/field-mapping-screen';
import { ServiceFieldMappingScreenSource } from './field-mapping-screen.source';
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
  ServiceFieldMappingScreenSource,
  // The Field mapping page edits through this service (the screens' read-only default is not bound).
  { provide: FIELD_MAPPING_SCREEN_SOURCE, useExisting: ServiceFieldMappingScreenSource },
];
