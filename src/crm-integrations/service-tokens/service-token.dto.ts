import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsDateString, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { TENANT_ID_PATTERN } from '../tenants/tenant.dto';

export class CreateServiceTokenDto {
  @ApiProperty({ example: 'penguinmails-backend', description: 'What the token is for (shown in lists)' })
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiPropertyOptional({
    example: 'ws_123',
    description: 'Limit the token to this tenant; leave out for a platform-wide token',
  })
  @IsOptional()
  @Matches(TENANT_ID_PATTERN, { message: 'tenantId must be 1–64 letters, digits, "_" or "-"' })
  tenantId?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    example: '2027-01-01T00:00:00Z',
    description: 'After this time the token is refused with a 401; leave out for no expiry',
  })
  @IsOptional()
  @IsDateString({ strict: true }, { message: 'expiresAt must be an ISO 8601 date-time' })
  expiresAt?: string;
}

export class ListServiceTokensQuery {
  @ApiPropertyOptional({ description: "Only this tenant's tokens" })
  @IsOptional()
  @Matches(TENANT_ID_PATTERN, { message: 'tenantId must be 1–64 letters, digits, "_" or "-"' })
  tenantId?: string;

  @ApiPropertyOptional({ default: false, description: 'Include revoked tokens' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  includeRevoked?: boolean;
}

export class ServiceTokenParams {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'tokenId must be a UUID' })
  tokenId!: string;
}

/** A stored token: never its hash, and the plaintext only once, when created. */
export class ServiceTokenResponseDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'penguinmails-backend' }) name!: string;
  @ApiProperty({ example: 'pmcrm_Ab3dE9', description: 'The first characters, to tell tokens apart' })
  prefix!: string;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Null: platform-wide' })
  tenantId!: string | null;
  @ApiProperty({ enum: ['active', 'expired', 'revoked'] }) status!: 'active' | 'expired' | 'revoked';
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional({ nullable: true, type: String, example: 'service:platform' })
  createdBy!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time' }) expiresAt!: string | null;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'Updated at most once a minute',
  })
  lastUsedAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time' }) revokedAt!: string | null;
}

export class CreatedServiceTokenDto extends ServiceTokenResponseDto {
  @ApiProperty({
    example: 'pmcrm_…',
    description: 'The token itself: shown this once, only its hash is kept',
  })
  token!: string;
}
