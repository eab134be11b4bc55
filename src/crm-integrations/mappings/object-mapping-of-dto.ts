import type { FieldMappingEntry, MatchingLocalField, ObjectMapping } from '@pm/integration-port';
import { matchingKeyOf } from '@pm/sync-engine';
import type { ObjectMappingDto } from './field-mapping.dto';

/**
 * The body of a mapping as the engine holds it. A contact mapping keeps the connector's e-mail field and stores a
 * matching key only when it is not the default (e-mail ↔ that field), so mappings saved with the default read as
 * before; each side of the key not given stays as it is. A company object has no key: a given one reaches
 * validation as is, which refuses it.
 */
export function toObjectMapping(dto: ObjectMappingDto, current: ObjectMapping): ObjectMapping {
  const fields = dto.fields.map((field) => JSON.parse(JSON.stringify(field)) as FieldMappingEntry);
  if (current.emailField === '') {
    const key =
      dto.matchLocalField === undefined ? {} : { matchKey: { local: dto.matchLocalField, crm: '' } };
    return { object: dto.object, emailField: dto.matchField ?? '', ...key, fields } as ObjectMapping;
  }
  const currentKey = matchingKeyOf(current);
  const key = {
    local: (dto.matchLocalField ?? currentKey.local) as MatchingLocalField,
    crm: dto.matchField ?? currentKey.crm,
  };
  const byDefault = key.local === 'email' && key.crm === current.emailField;
  return {
    object: dto.object,
    emailField: current.emailField,
    ...(byDefault ? {} : { matchKey: key }),
    fields,
  };
}
