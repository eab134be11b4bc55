import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsEmail,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  MaxLength,
  Min,
} from 'class-validator';
import type { Contact } from '@pm/domain';
import { MaxPageSize } from '../http/limits';
import { TenantParams } from '../tenants/tenant.dto';

/** Surrounding white space is a copy-paste accident, not part of an address. */
const TrimString = () => Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));

export class ContactParams extends TenantParams {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'contactId must be a UUID' })
  contactId!: string;
}

/** The editable fields of a PenguinMails contact. `null` clears a field; absent leaves it alone. */
export class ContactFieldsDto {
  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  firstName?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  lastName?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(300)
  company?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  title?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(50)
  phone?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  lifecycleStage?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  leadStatus?: string | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  customFields?: Record<string, unknown>;
}

export class UpsertContactDto extends ContactFieldsDto {
  @ApiProperty({ example: 'john@example.com' })
  @TrimString()
  @IsEmail({}, { message: 'email must be a valid e-mail address' })
  @Length(3, 320)
  email!: string;
}

export class UpdateContactDto extends ContactFieldsDto {
  @ApiPropertyOptional({ example: 'john@example.com' })
  @IsOptional()
  @TrimString()
  @IsEmail({}, { message: 'email must be a valid e-mail address' })
  email?: string;
}

export class ListContactsQuery {
  @ApiPropertyOptional({
    default: 100,
    maximum: 500,
    description: 'Contacts per page, at most 500 (more is a 422 naming the limit)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @MaxPageSize()
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsEmail({}, { message: 'email must be a valid e-mail address' })
  email?: string;
}

export class ContactResponseDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() email!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) firstName!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) lastName!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) company!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) title!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) phone!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) lifecycleStage!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) leadStatus!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) customFields!: Record<string, unknown>;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;

  static from(contact: Contact): ContactResponseDto {
    return {
      id: contact.id,
      email: contact.email,
      firstName: contact.firstName ?? null,
      lastName: contact.lastName ?? null,
      company: contact.company ?? null,
      title: contact.title ?? null,
      phone: contact.phone ?? null,
      lifecycleStage: contact.lifecycleStage ?? null,
      leadStatus: contact.leadStatus ?? null,
      customFields: contact.customFields,
      createdAt: contact.createdAt.toISOString(),
      updatedAt: contact.updatedAt.toISOString(),
    };
  }
}

export class ContactPageDto {
  @ApiProperty({ type: [ContactResponseDto] }) data!: ContactResponseDto[];
  @ApiPropertyOptional({ nullable: true, type: String }) nextCursor!: string | null;
}
