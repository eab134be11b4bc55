import type { FieldDescriptor } from '../../types';
import { READ_ONLY_FIELDS } from './crm-schema';
import type { InMemoryCrm } from './in-memory-crm';

/** The object's fields, read-only ones first; copies, so a caller cannot change the CRM's schema. */
export function describeObject(crm: InMemoryCrm, object: string): FieldDescriptor[] {
  return [...READ_ONLY_FIELDS, ...crm.schema(object).fields.map((schema) => schema.descriptor)].map(
    (descriptor) => ({
      ...descriptor,
      options: descriptor.options?.map((option) => ({ ...option })),
    }),
  );
}
