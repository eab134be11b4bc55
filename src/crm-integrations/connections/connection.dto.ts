import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Length,
} from 'class-validator';
import {
  CONFLICT_POLICIES,
  SYNC_DIRECTIONS,
  SYNC_FREQUENCIES,
  type ConflictPolicy,
  type ConnectionSettings,
  type CrmConnection,
  type SyncDirection,
  type SyncFrequency,
} from '@pm/domain';
import { TenantParams } from '../tenants/tenant.dto';

export class ConnectionParams extends TenantParams {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'connectionId must be a UUID' })
  connectionId!: string;
}

export class UpdateConnectionSettingsDto {
  @ApiPropertyOptional({ example: ['Contact', 'Lead'], description: "The CRM's own object names" })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Length(1, 100, { each: true })
  objects?: string[];

  @ApiPropertyOptional({ enum: SYNC_DIRECTIONS })
  @IsOptional()
  @IsIn(SYNC_DIRECTIONS)
  direction?: SyncDirection;

  @ApiPropertyOptional({ enum: CONFLICT_POLICIES })
  @IsOptional()
  @IsIn(CONFLICT_POLICIES)
  conflictPolicy?: ConflictPolicy;

  @ApiPropertyOptional({ enum: SYNC_FREQUENCIES })
  @IsOptional()
  @IsIn(SYNC_FREQUENCIES)
  frequency?: SyncFrequency;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  activityLogging?: boolean;

  @ApiPropertyOptional({ description: 'Delete on the other side when a record is deleted on one side' })
  @IsOptional()
  @IsBoolean()
  propagateDeletes?: boolean;

  @ApiPropertyOptional({
    description:
      'An e-mail event for a contact the CRM does not have creates it there (matched by e-mail first); off: held until a sync links it',
  })
  @IsOptional()
  @IsBoolean()
  createMissingContacts?: boolean;

  @ApiPropertyOptional({
    description:
      "Real-time sync: the CRM's change events start a targeted sync of the records they name within seconds (Pipedrive webhooks are registered when turned on and removed when turned off)",
  })
  @IsOptional()
  @IsBoolean()
  realtime?: boolean;
}

export class ConnectionSettingsDto implements ConnectionSettings {
  @ApiProperty({ type: [String] }) objects!: string[];
  @ApiProperty({ enum: SYNC_DIRECTIONS }) direction!: SyncDirection;
  @ApiProperty({ enum: CONFLICT_POLICIES }) conflictPolicy!: ConflictPolicy;
  @ApiProperty({ enum: SYNC_FREQUENCIES }) frequency!: SyncFrequency;
  @ApiProperty() activityLogging!: boolean;
  @ApiProperty() propagateDeletes!: boolean;
  @ApiProperty() createMissingContacts!: boolean;
  @ApiProperty() realtime!: boolean;
}

/** A connection as the API shows it. Credentials are not part of it, by construction. */
export class ConnectionResponseDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'salesforce' }) provider!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) label!: string | null;
  @ApiProperty({ example: 'connected' }) status!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) statusReason!: string | null;
  @ApiProperty({ example: 'healthy' }) health!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) healthReason!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) crmAccountId!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) crmAccountName!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) instanceUrl!: string | null;
  @ApiProperty({ type: ConnectionSettingsDto }) settings!: ConnectionSettingsDto;
  @ApiPropertyOptional({ nullable: true, type: String }) connectedAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) lastSyncAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) nextSyncAt!: string | null;
  @ApiProperty() createdAt!: string;

  static from(connection: CrmConnection): ConnectionResponseDto {
    const iso = (date?: Date | null) => (date ? date.toISOString() : null);
    return {
      id: connection.id,
      provider: connection.provider,
      label: connection.label ?? null,
      status: connection.status,
      statusReason: connection.statusReason ?? null,
      health: connection.health,
      healthReason: connection.healthReason ?? null,
      crmAccountId: connection.crmAccountId ?? null,
      crmAccountName: connection.crmAccountName ?? null,
      instanceUrl: connection.instanceUrl ?? null,
      // Connections stored before a setting existed read as its default.
      settings: { createMissingContacts: false, realtime: false, ...connection.settings },
      connectedAt: iso(connection.connectedAt),
      lastSyncAt: iso(connection.lastSyncAt),
      nextSyncAt: iso(connection.nextSyncAt),
      createdAt: connection.createdAt.toISOString(),
    };
  }
}
