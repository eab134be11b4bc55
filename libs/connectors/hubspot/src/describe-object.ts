import type { FieldDescriptor, FieldType } from '@pm/integration-port';
import type { HubSpotCall } from './client';
import { requireObject } from './records';

/** The parts of the SDK's `Property` model describe reads (GET /crm/v3/properties/{objectType}). */
interface SdkProperty {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  hidden?: boolean;
  hubspotDefined?: boolean;
  calculated?: boolean;
  hasUniqueValue?: boolean;
  modificationMetadata?: { readOnlyValue?: boolean };
  options?: Array<{ value: string; label: string; hidden?: boolean }>;
}

/** Properties HubSpot requires on create; its property metadata has no "required" flag. */
const REQUIRED_ON_CREATE: Readonly<Record<string, readonly string[]>> = { emails: ['hs_timestamp'] };

/** HubSpot's `type` and `fieldType` (developers.hubspot.com/docs/api/crm/properties) as the port's field type. */
export function fieldTypeOf(property: Pick<SdkProperty, 'name' | 'type' | 'fieldType'>): FieldType {
  if (property.name === 'hs_object_id') return 'id';
  switch (property.type) {
    case 'enumeration':
      if (property.fieldType === 'booleancheckbox') return 'boolean';
      return property.fieldType === 'checkbox' ? 'multipicklist' : 'picklist';
    case 'bool':
      return 'boolean';
    case 'number':
      return 'number';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime';
    case 'phone_number':
      return 'phone';
    case 'string':
      if (property.name === 'email' || property.fieldType === 'email') return 'email';
      if (property.fieldType === 'phonenumber') return 'phone';
      if (['website', 'domain'].includes(property.name)) return 'url';
      return property.fieldType === 'textarea' || property.fieldType === 'html' ? 'text' : 'string';
    default:
      return 'other';
  }
}

export async function describeHubSpotObject(call: HubSpotCall, object: string): Promise<FieldDescriptor[]> {
  requireObject(object);
  const response = await call.run(() => call.properties.getAll(object, false, undefined, call.options));
  const required = new Set(REQUIRED_ON_CREATE[object] ?? []);
  return (response.results as SdkProperty[])
    .filter((property) => property.hidden !== true || property.name === 'hs_object_id')
    .map((property) => {
      const descriptor: FieldDescriptor = {
        name: property.name,
        label: property.label || property.name,
        type: fieldTypeOf(property),
        crmType: `${property.type}/${property.fieldType}`,
        required: required.has(property.name),
        readOnly: property.modificationMetadata?.readOnlyValue === true || property.calculated === true,
        custom: property.hubspotDefined !== true,
      };
      const options = (property.options ?? []).filter((option) => option.hidden !== true);
      if (property.type === 'enumeration' && options.length > 0) {
        descriptor.options = options.map((option) => ({ value: option.value, label: option.label }));
      }
      return descriptor;
    });
}
