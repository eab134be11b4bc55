import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsBoolean,
  IsDateString,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  Min,
} from 'class-validator';
import { SYNC_LOG_ACTIONS, type SyncLogAction } from '@pm/domain';
import { MaxPageSize } from '../http/limits';
import { SyncLogEntryResponseDto } from './sync.dto';

/** The most lines one page of the log holds. */
export const SYNC_LOG_PAGE_MAX = 500;
export const SYNC_LOG_PAGE_DEFAULT = 100;

const toBoolean = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;
const toList = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.split(',').map((item) => item.trim()) : value;

/** Filters and paging of the sync log (one connection's or the whole tenant's). */
export class SyncLogPageQuery {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: SYNC_LOG_PAGE_MAX,
    default: SYNC_LOG_PAGE_DEFAULT,
    description: `Lines per page, at most ${SYNC_LOG_PAGE_MAX} (more is a 422 naming the limit)`,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @MaxPageSize(SYNC_LOG_PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ enum: ['to_crm', 'from_crm', 'none'] })
  @IsOptional()
  @IsIn(['to_crm', 'from_crm', 'none'])
  direction?: 'to_crm' | 'from_crm' | 'none';

  @ApiPropertyOptional({
    description: `One action or several, comma-separated: ${SYNC_LOG_ACTIONS.join(', ')}`,
    example: 'created,updated',
    type: String,
  })
  @IsOptional()
  @Transform(toList)
  @ArrayMaxSize(SYNC_LOG_ACTIONS.length)
  @IsIn(SYNC_LOG_ACTIONS, { each: true, message: `action must be among: ${SYNC_LOG_ACTIONS.join(', ')}` })
  action?: SyncLogAction[];

  @ApiPropertyOptional({ description: 'Only errors (the same as action=error)', default: false })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  errorsOnly?: boolean;

  @ApiPropertyOptional({ format: 'date-time', description: 'Lines at or after this time' })
  @IsOptional()
  @IsDateString({ strict: true }, { message: 'from must be an ISO 8601 date-time' })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Lines before this time' })
  @IsOptional()
  @IsDateString({ strict: true }, { message: 'to must be an ISO 8601 date-time' })
  to?: string;
}

export class ConnectionSyncLogQuery extends SyncLogPageQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'Only the lines of this run' })
  @IsOptional()
  @IsUUID('all', { message: 'runId must be a UUID' })
  runId?: string;
}

export class TenantSyncLogQuery extends SyncLogPageQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'Only this connection’s lines' })
  @IsOptional()
  @IsUUID('all', { message: 'connectionId must be a UUID' })
  connectionId?: string;
}

export class SyncLogPageDto {
  @ApiProperty({ type: [SyncLogEntryResponseDto], description: 'Newest first' })
  data!: SyncLogEntryResponseDto[];

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'Pass as `cursor` for the next (older) page; null on the last page',
  })
  nextCursor!: string | null;
}
