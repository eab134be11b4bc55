import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';
import type { Tenant } from '@pm/domain';

export const TENANT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export class UpsertTenantDto {
  @ApiProperty({ example: 'Acme Inc.' })
  @IsString()
  @Length(1, 200)
  name!: string;
}

export class TenantParams {
  @ApiProperty({ description: 'The PenguinMails workspace id', example: 'ws_123' })
  @Matches(TENANT_ID_PATTERN, { message: 'tenantId must be 1–64 letters, digits, "_" or "-"' })
  tenantId!: string;
}

export class TenantResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() active!: boolean;
  @ApiProperty() createdAt!: string;

  static from(tenant: Tenant): TenantResponseDto {
    return {
      id: tenant.id,
      name: tenant.name,
      active: tenant.active,
      createdAt: tenant.createdAt.toISOString(),
    };
  }
}
