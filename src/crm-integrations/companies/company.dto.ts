import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import type { Company } from '@pm/domain';
import { TenantParams } from '../tenants/tenant.dto';

/** Surrounding white space is a copy-paste accident, not part of a name. */
const TrimString = () => Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));

/** A domain (`acme.com`) or a web address whose host is one (`https://www.acme.com/`). */
const DOMAIN_OR_URL = /^([a-z][a-z0-9+.-]*:\/\/)?[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?([/?#].*)?$/i;

export class CompanyParams extends TenantParams {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'companyId must be a UUID' })
  companyId!: string;
}

/** Creates a company, or updates the one with the same key: its domain, else its (normalised) name. */
export class UpsertCompanyDto {
  @ApiProperty({ example: 'Acme Inc.' })
  @TrimString()
  @IsString()
  @Length(1, 300)
  name!: string;

  @ApiPropertyOptional({ nullable: true, type: String, example: 'acme.com' })
  @IsOptional()
  @TrimString()
  @IsString()
  @MaxLength(253)
  @Matches(DOMAIN_OR_URL, { message: 'domain must be a domain such as acme.com (or a web address)' })
  domain?: string | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { tier: 'gold' },
    description:
      "The tenant's own company fields, merged into the stored ones (customFields.<name> in a mapping)",
  })
  @IsOptional()
  @IsObject()
  customFields?: Record<string, unknown>;
}

export class ListCompaniesQuery {
  @ApiPropertyOptional({ default: 100, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(700)
  cursor?: string;
}

export class CompanyResponseDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) domain!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) customFields!: Record<string, unknown>;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;

  static from(company: Company): CompanyResponseDto {
    return {
      id: company.id,
      name: company.name,
      domain: company.domain ?? null,
      customFields: company.customFields ?? {},
      createdAt: company.createdAt.toISOString(),
      updatedAt: company.updatedAt.toISOString(),
    };
  }
}

export class CompanyPageDto {
  @ApiProperty({ type: [CompanyResponseDto] }) data!: CompanyResponseDto[];
  @ApiPropertyOptional({ nullable: true, type: String }) nextCursor!: string | null;
}
