import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsEmail,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  MaxLength,
  ValidateNested,
  registerDecorator,
  type ValidationOptions,
} from 'class-validator';
import type {
  FieldDescriptor,
  FieldMappingEntry,
  LocalContactField,
  MappingDirection,
  ValueCodec,
} from '@pm/integration-port';
import { matchingKeyOf, type FieldPreview, type MappingProblem } from '@pm/sync-engine';
import type { CrmFieldCache, FieldMappingConfig } from '@pm/domain';
import { ConnectionParams } from '../connections/connection.dto';

const DIRECTIONS: MappingDirection[] = ['both', 'to_crm', 'from_crm'];
const CODECS: ValueCodec[] = ['text', 'email', 'primary_of_list', 'domain'];

/** At most `max` entries, each a string key to a string value of at most 200 characters. */
function IsStringMap(max: number, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isStringMap',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: `$property must be an object of at most ${max} text values (keys and values up to 200 characters)`,
        ...options,
      },
      validator: {
        validate: (value: unknown) =>
          value !== null &&
          typeof value === 'object' &&
          !Array.isArray(value) &&
          Object.entries(value).length <= max &&
          Object.entries(value).every(
            ([key, item]) => key.length <= 200 && typeof item === 'string' && item.length <= 200,
          ),
      },
    });
}

export class AssociatedFieldDto {
  @ApiProperty({ example: 'companies' }) @IsString() @Length(1, 100) object!: string;
  @ApiProperty({ example: 'name' }) @IsString() @Length(1, 200) field!: string;
}

export class ValueMapDto {
  @ApiPropertyOptional({
    example: { customer: 'Closed - Converted' },
    description: 'PenguinMails value → CRM value',
  })
  @IsOptional()
  @IsStringMap(500)
  toCrm?: Record<string, string>;

  @ApiPropertyOptional({
    example: { 'Closed - Converted': 'customer' },
    description: 'CRM value → PenguinMails value',
  })
  @IsOptional()
  @IsStringMap(500)
  fromCrm?: Record<string, string>;
}

export class FieldFormulasDto {
  @ApiPropertyOptional({
    example: "firstName & ' ' & lastName",
    description: 'JSONata over the contact (over the company for a company object)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2_000)
  toCrm?: string;

  @ApiPropertyOptional({
    example: "$lowercase($substringAfter(Email, '@'))",
    description: 'JSONata over the CRM record',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2_000)
  fromCrm?: string;
}

export class FieldMappingEntryDto implements FieldMappingEntry {
  @ApiPropertyOptional({
    type: String,
    example: 'customFields.favouriteColour',
    description:
      'A PenguinMails contact field (email, firstName, …), for a company object a company field (name, domain), or customFields.<name>; absent for a toCrm formula',
  })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  local?: LocalContactField;

  @ApiPropertyOptional({ example: 'Favourite_Colour__c', description: "The CRM's field name" })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  crm?: string;

  @ApiPropertyOptional({ type: AssociatedFieldDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => AssociatedFieldDto)
  associated?: AssociatedFieldDto;

  @ApiProperty({ enum: DIRECTIONS }) @IsIn(DIRECTIONS) direction!: MappingDirection;

  // A property initialiser, not a @Transform: class-transformer runs transforms only for keys the body has, so an
  // entry leaving `codec` out was refused instead of taking the default.
  @ApiPropertyOptional({ enum: CODECS, default: 'text' })
  @Transform(({ value }: { value: unknown }) => value ?? 'text')
  @IsIn(CODECS)
  codec: ValueCodec = 'text';

  @ApiPropertyOptional({ type: ValueMapDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ValueMapDto)
  valueMap?: ValueMapDto;

  @ApiPropertyOptional({ type: FieldFormulasDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => FieldFormulasDto)
  formula?: FieldFormulasDto;
}

/** A whole mapping of one object, as saved (PUT) or tried (preview). */
export class ObjectMappingDto {
  @ApiProperty({ example: 'Contact', description: "The CRM's own object name" })
  @IsString()
  @Length(1, 100)
  object!: string;

  @ApiPropertyOptional({
    example: 'External_Id__c',
    description:
      "The matching key's CRM field: the connector's e-mail field, or any field of the object that can hold the key " +
      '(text, e-mail, phone, number, id: a custom external id, a second e-mail field); default: the current one',
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  matchField?: string;

  @ApiPropertyOptional({
    example: 'customFields.externalId',
    description:
      "The matching key's PenguinMails side: `email`, or a contact custom field `customFields.<name>`; default: the " +
      'current one. Unlinked records are matched on the key first, then by e-mail (a record without a key value ' +
      'included); one found by e-mail that holds another key value is not linked',
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  matchLocalField?: string;

  @ApiProperty({ type: [FieldMappingEntryDto] })
  @IsArray()
  @ArrayMaxSize(200)
  @ValidateNested({ each: true })
  @Type(() => FieldMappingEntryDto)
  fields!: FieldMappingEntryDto[];
}

export class MappingQuery {
  @ApiPropertyOptional({ example: 'Contact', description: 'Only this object' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  object?: string;
}

export class FieldsQuery extends MappingQuery {
  @ApiPropertyOptional({ description: 'Describe the object again instead of answering from the cache' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  refresh?: boolean;
}

export class PreviewMappingDto {
  @ApiProperty({ example: 'Contact' }) @IsString() @Length(1, 100) object!: string;

  @ApiPropertyOptional({ type: ObjectMappingDto, description: 'A proposed mapping; default: the saved one' })
  @IsOptional()
  @ValidateNested()
  @Type(() => ObjectMappingDto)
  mapping?: ObjectMappingDto;

  @ApiPropertyOptional({ format: 'uuid', description: 'A PenguinMails contact to preview with' })
  @IsOptional()
  @IsUUID('all')
  contactId?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'A PenguinMails company to preview a company object (Account, companies, …) with',
  })
  @IsOptional()
  @IsUUID('all')
  companyId?: string;

  @ApiPropertyOptional({ example: '003000000000001AAA', description: 'A CRM record to preview with' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  crmRecordId?: string;

  @ApiPropertyOptional({
    example: 'ada@example.com',
    description: 'The contact and CRM record with this e-mail',
  })
  @IsOptional()
  @IsEmail()
  @MaxLength(320)
  email?: string;
}

export { ConnectionParams as MappingParams };

export class MappingProblemDto implements MappingProblem {
  @ApiProperty({ example: 'fields[2].crm' }) name!: string;
  @ApiProperty() reason!: string;
}

export class MappingImpactDto {
  @ApiProperty({ description: 'Linked records of this object' }) linkedRecords!: number;
  @ApiProperty({ description: 'Fields whose direction, formula, value map or key changed' })
  changedFields!: string[];
  @ApiProperty({ description: 'Linked records the next run re-compares (not re-pushed blindly)' })
  recordsToCompare!: number;
  @ApiProperty({
    description: 'Of those, records whose PenguinMails values differ from the last sync: they will change',
  })
  recordsThatWillChange!: number;
}

export class FieldMappingResponseDto {
  @ApiProperty() object!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: "The matching key's CRM field; null for a company object (matched by domain, else name)",
  })
  matchField!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description:
      "The matching key's PenguinMails field (`email` or `customFields.<name>`); null for a company object",
  })
  matchLocalField!: string | null;
  @ApiProperty({ type: [FieldMappingEntryDto] }) fields!: FieldMappingEntry[];
  @ApiProperty({ description: '1: the seeded defaults; bumped on each save' }) version!: number;
  @ApiProperty({ nullable: true, type: String }) updatedBy!: string | null;
  @ApiProperty() updatedAt!: string;
  @ApiPropertyOptional({ type: MappingImpactDto }) impact?: MappingImpactDto;

  static from(row: FieldMappingConfig, impact?: MappingImpactDto): FieldMappingResponseDto {
    return {
      object: row.object,
      matchField: row.mapping.emailField === '' ? null : matchingKeyOf(row.mapping).crm,
      matchLocalField: row.mapping.emailField === '' ? null : matchingKeyOf(row.mapping).local,
      fields: [...row.mapping.fields],
      version: row.version,
      updatedBy: row.updatedBy ?? null,
      updatedAt: row.updatedAt.toISOString(),
      ...(impact ? { impact } : {}),
    };
  }
}

export class CrmFieldOptionDto {
  @ApiProperty() value!: string;
  @ApiProperty() label!: string;
}

export class CrmFieldDto implements FieldDescriptor {
  @ApiProperty() name!: string;
  @ApiProperty() label!: string;
  @ApiProperty({ example: 'picklist' }) type!: FieldDescriptor['type'];
  @ApiProperty() crmType!: string;
  @ApiProperty() required!: boolean;
  @ApiProperty() readOnly!: boolean;
  @ApiProperty() custom!: boolean;
  @ApiPropertyOptional({ type: [CrmFieldOptionDto] }) options?: CrmFieldOptionDto[];
}

export class CrmObjectFieldsDto {
  @ApiProperty() object!: string;
  @ApiProperty() fetchedAt!: string;
  @ApiProperty({ type: [CrmFieldDto] }) fields!: CrmFieldDto[];

  static from(row: CrmFieldCache): CrmObjectFieldsDto {
    return { object: row.object, fetchedAt: row.fetchedAt.toISOString(), fields: row.fields };
  }
}

export class FieldPreviewDto implements FieldPreview {
  @ApiProperty() key!: string;
  @ApiProperty({ nullable: true, type: String }) local!: string | null;
  @ApiProperty({ nullable: true, type: String }) crm!: string | null;
  @ApiProperty({ enum: DIRECTIONS }) direction!: MappingDirection;
  @ApiPropertyOptional({ description: '{ value } written to the CRM, or { error }' })
  toCrm?: { value: unknown } | { error: string };
  @ApiPropertyOptional({ description: '{ value } written to PenguinMails, or { error }' })
  fromCrm?: { value: string | null } | { error: string };
}

export class MappingPreviewResponseDto {
  @ApiProperty() object!: string;
  @ApiProperty({ nullable: true, type: String }) contactId!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'For a company object' })
  companyId?: string | null;
  @ApiProperty({ nullable: true, type: String }) crmRecordId!: string | null;
  @ApiProperty({ type: [FieldPreviewDto] }) fields!: FieldPreviewDto[];
  @ApiProperty({ type: [MappingProblemDto], description: 'What validation on save would say' })
  problems!: MappingProblemDto[];
}
