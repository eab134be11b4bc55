import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ObjectMappingDto } from './field-mapping.dto';

describe('a mapping as the API reads it', () => {
  const read = (fields: object[]) => {
    const dto = plainToInstance(ObjectMappingDto, { object: 'contacts', fields });
    return { dto, errors: validateSync(dto) };
  };

  it('gives an entry that leaves the codec out the documented default, text', () => {
    const { dto, errors } = read([{ local: 'firstName', crm: 'firstname', direction: 'both' }]);
    expect(errors).toEqual([]);
    expect(dto.fields[0].codec).toBe('text');
  });

  it('keeps a codec that is given, and refuses one that is not known', () => {
    expect(
      read([{ local: 'phone', crm: 'phone', direction: 'both', codec: 'primary_of_list' }]).dto.fields[0]
        .codec,
    ).toBe('primary_of_list');
    expect(read([{ local: 'phone', crm: 'phone', direction: 'both', codec: 'rot13' }]).errors).not.toEqual(
      [],
    );
  });
});
