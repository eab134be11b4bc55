import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsUUID, Min } from 'class-validator';
import { MaxPageSize } from '../http/limits';
import { ConnectionParams } from '../connections/connection.dto';
import type { RecordLink, SyncLogEntry, SyncRun, SyncRunCounts } from '@pm/domain';

export class SyncListQuery {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 500,
    default: 50,
    description: 'Runs per page, at most 500 (more is a 422 naming the limit)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @MaxPageSize()
  limit?: number;
}

export class SyncRunResponseDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'manual' }) trigger!: string;
  @ApiProperty({ example: 'succeeded' }) status!: string;
  @ApiProperty() queuedAt!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) startedAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) finishedAt!: string | null;
  @ApiProperty({
    description: "Per direction and CRM object: counts['to_crm']['Contact'].created",
    example: {
      to_crm: { Contact: { created: 1, updated: 0, skipped: 0, conflicts: 0, errors: 0, deleted: 0 } },
    },
  })
  counts!: SyncRunCounts;
  @ApiPropertyOptional({ nullable: true, type: String }) error!: string | null;

  static from(run: SyncRun): SyncRunResponseDto {
    return {
      id: run.id,
      trigger: run.trigger,
      status: run.status,
      queuedAt: run.queuedAt.toISOString(),
      startedAt: run.startedAt?.toISOString() ?? null,
      finishedAt: run.finishedAt?.toISOString() ?? null,
      counts: run.counts,
      error: run.error ?? null,
    };
  }
}

export class FieldProvenanceDto {
  @ApiPropertyOptional({ nullable: true, description: 'The value both sides held after the last sync' })
  value!: unknown;
  @ApiProperty({ enum: ['penguinmails', 'crm'], description: 'The side the value came from' }) side!: string;
  @ApiProperty({ description: 'When it was synced' }) at!: string;
  @ApiProperty({
    enum: ['only_changed_side', 'crm_wins', 'penguinmails_wins', 'most_recent', 'initial'],
    description: 'The rule by which it won',
  })
  rule!: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'The run that synced it' }) runId?: string;
}

/** Why each mapped field of a contact holds its value, per CRM record it is linked to. */
export class ContactProvenanceDto {
  @ApiProperty({ example: 'Contact' }) crmObject!: string;
  @ApiProperty() crmId!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) lastSyncedAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) unlinkedAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) unlinkReason!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: getSchemaPath(FieldProvenanceDto) } })
  fields!: Record<string, FieldProvenanceDto>;

  static from(link: RecordLink): ContactProvenanceDto {
    return {
      crmObject: link.crmObject,
      crmId: link.crmId,
      lastSyncedAt: link.lastSyncedAt?.toISOString() ?? null,
      unlinkedAt: link.unlinkedAt?.toISOString() ?? null,
      unlinkReason: link.unlinkReason ?? null,
      fields: { ...link.synced },
    };
  }
}

export class ContactProvenanceParams extends ConnectionParams {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'contactId must be a UUID' })
  contactId!: string;
}

export class SyncNowResponseDto {
  @ApiProperty({ description: 'false: a run was already waiting; that run is returned' }) queued!: boolean;
  @ApiProperty({ type: SyncRunResponseDto }) run!: SyncRunResponseDto;
}

export class SyncLogEntryResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() at!: string;
  @ApiProperty({ format: 'uuid' }) connectionId!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) runId!: string | null;
  @ApiProperty({ enum: ['to_crm', 'from_crm', 'none'] }) direction!: string;
  @ApiProperty({ example: 'Contact' }) object!: string;
  @ApiPropertyOptional({ nullable: true, type: String, example: 'john@example.com' }) recordKey!:
    | string
    | null;
  @ApiProperty({ example: 'created' }) action!: string;
  @ApiProperty({ example: 'Contact synced: john@example.com → SF' }) message!: string;
  @ApiPropertyOptional({ nullable: true, type: Object }) details!: Record<string, unknown> | null;

  static from(entry: SyncLogEntry): SyncLogEntryResponseDto {
    return {
      id: String(entry.id),
      at: entry.at.toISOString(),
      connectionId: entry.connection.id,
      runId: entry.run?.id ?? null,
      direction: entry.direction,
      object: entry.object,
      recordKey: entry.recordKey ?? null,
      action: entry.action,
      message: entry.message,
      details: entry.details ?? null,
    };
  }
}
