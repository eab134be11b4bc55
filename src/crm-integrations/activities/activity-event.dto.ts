import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsEmail,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { ACTIVITY_EVENT_TYPES, BOUNCE_TYPES, type ActivityEventType, type BounceType } from '@pm/domain';
import { ConnectionParams } from '../connections/connection.dto';
import { ItemsCheckedByRoute } from '../http/validation.pipe';

/** Also the reason for an ISO-8601 form the validator passes but Date cannot read (a week or ordinal date). */
export const OCCURRED_AT_MESSAGE = 'occurredAt must be an ISO-8601 date and time';

/** Most events one ingest call takes; more is refused whole with 413 naming the limit. */
export const MAX_EVENTS_PER_INGEST = 1_000;

/** One e-mail event from the PenguinMails backend. Validated one by one, so a bad event never fails its neighbours. */
export class ActivityEventDto {
  @ApiProperty({
    description: "PenguinMails' id of the event: a retried batch logs nothing twice",
    example: 'evt_1',
  })
  @IsString()
  @Length(1, 200)
  eventId!: string;

  @ApiProperty({ enum: ACTIVITY_EVENT_TYPES })
  @IsIn(ACTIVITY_EVENT_TYPES, { message: `type must be one of ${ACTIVITY_EVENT_TYPES.join(', ')}` })
  type!: ActivityEventType;

  @ApiProperty({ example: '<msg-1@mail.penguinmails.com>' })
  @IsString()
  @Length(1, 500)
  messageId!: string;

  @ApiPropertyOptional({ example: 'cmp_42' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  campaignId?: string;

  @ApiProperty({ description: "The contact's e-mail", example: 'john@example.com' })
  @IsEmail({}, { message: 'email must be a valid e-mail address' })
  @Length(3, 320)
  email!: string;

  @ApiPropertyOptional({ example: 'Quick question' })
  @IsOptional()
  @IsString()
  @MaxLength(998)
  subject?: string;

  @ApiProperty({ description: 'When it happened (ISO-8601 with offset)', example: '2026-12-05T10:00:00Z' })
  @IsISO8601({ strict: true }, { message: OCCURRED_AT_MESSAGE })
  occurredAt!: string;

  @ApiPropertyOptional({ description: 'The link clicked (required for clicked)' })
  @ValidateIf((event: ActivityEventDto) => event.type === 'clicked' || event.url !== undefined)
  @IsUrl({ require_protocol: true }, { message: 'url must be an absolute URL (required for clicked)' })
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({ description: 'The start of the reply (replied)' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  snippet?: string;

  @ApiPropertyOptional({ enum: BOUNCE_TYPES, description: 'Required for bounced' })
  @ValidateIf((event: ActivityEventDto) => event.type === 'bounced' || event.bounceType !== undefined)
  @IsIn(BOUNCE_TYPES, { message: 'bounceType must be hard or soft (required for bounced)' })
  bounceType?: BounceType;

  @ApiPropertyOptional({ description: 'Why it bounced (bounced)' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;
}

export class IngestActivitiesDto {
  @ApiProperty({
    type: [ActivityEventDto],
    maxItems: MAX_EVENTS_PER_INGEST,
    description: 'Each event is validated on its own; see the per-event results',
  })
  @IsArray({ message: 'events must be an array' })
  @ItemsCheckedByRoute()
  events!: unknown[];
}

export type IngestStatus = 'accepted' | 'duplicate' | 'rejected';

export class IngestResultDto {
  @ApiProperty({ description: "The event's position in the request" }) index!: number;
  @ApiPropertyOptional({ nullable: true, type: String }) eventId!: string | null;
  @ApiProperty({ enum: ['accepted', 'duplicate', 'rejected'] }) status!: IngestStatus;
  @ApiPropertyOptional({ description: 'Why it was rejected, naming each bad field' }) reason?: string;
}

/** 207 Multi-Status: one result per event, in request order. */
export class IngestResponseDto {
  @ApiProperty() accepted!: number;
  @ApiProperty({ description: 'Already received (same event id): nothing is logged twice' })
  duplicates!: number;
  @ApiProperty() rejected!: number;
  @ApiProperty({ type: [IngestResultDto] }) results!: IngestResultDto[];
}

export class ActivitySummaryQuery {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 90,
    default: 7,
    description: 'Days back, today included (UTC)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(90)
  days?: number;
}

export { ConnectionParams as ActivitySummaryParams };

export class ActivityDayDto {
  @ApiProperty({ example: '2026-12-05' }) date!: string;
  @ApiProperty({ description: 'Events delivered into the CRM that day' }) logged!: number;
  @ApiProperty({ description: 'Events received that day and still held (contact not linked yet)' })
  held!: number;
  @ApiProperty({ description: 'Events the CRM refused on their last attempt that day' }) failed!: number;
}

export class ActivitySummaryDto {
  @ApiProperty({ format: 'uuid' }) connectionId!: string;
  @ApiProperty({ description: 'Whether the connection logs activities (its activityLogging setting)' })
  activityLogging!: boolean;
  @ApiProperty({ description: 'Now: waiting for delivery' }) pending!: number;
  @ApiProperty({ description: 'Now: waiting for their contact to be linked' }) held!: number;
  @ApiProperty({ description: 'Now: refused by the CRM, retried on the next delivery' }) failed!: number;
  @ApiProperty({ description: 'All time' }) logged!: number;
  @ApiProperty({
    description: 'All time: events the CRM has no place for (delivery receipts), kept in PenguinMails only',
  })
  notApplicable!: number;
  @ApiProperty({ type: [ActivityDayDto], description: 'Newest first' }) days!: ActivityDayDto[];
}
