import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { CONTACT_CHANGE_KINDS, type ContactChange, type ContactChangeKind } from '@pm/domain';

export const MAX_CHANGES_PER_PAGE = 1_000;

export class ContactChangesQuery {
  @ApiPropertyOptional({
    description:
      'The nextCursor of the previous page (opaque). Absent: from the oldest change kept; "now": only changes from ' +
      'now on.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: MAX_CHANGES_PER_PAGE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_CHANGES_PER_PAGE)
  limit?: number;
}

export class ContactChangeDto {
  @ApiProperty({ description: 'Position in the feed (increasing)' }) sequence!: string;
  @ApiProperty({ format: 'uuid' }) contactId!: string;
  @ApiProperty() email!: string;
  @ApiProperty({ enum: CONTACT_CHANGE_KINDS }) kind!: ContactChangeKind;
  @ApiPropertyOptional({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'The connection whose CRM made it',
  })
  connectionId!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, example: 'hubspot' }) provider!: string | null;
  @ApiProperty({ type: [String], description: 'The contact fields that changed', example: ['firstName'] })
  fields!: string[];
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Their new values' })
  values!: Record<string, string | null>;
  @ApiProperty() occurredAt!: string;

  static from(change: ContactChange): ContactChangeDto {
    return {
      sequence: String(change.id),
      contactId: change.contactId,
      email: change.email,
      kind: change.kind,
      connectionId: change.connectionId ?? null,
      provider: change.provider ?? null,
      fields: change.fields,
      values: change.values,
      occurredAt: change.occurredAt.toISOString(),
    };
  }
}

export class ContactChangePageDto {
  @ApiProperty({ type: [ContactChangeDto], description: 'Oldest first' }) data!: ContactChangeDto[];
  @ApiProperty({ description: 'Where to resume: pass it as cursor (also when this page is empty)' })
  nextCursor!: string;
  @ApiProperty({ description: 'More changes wait after this page' }) hasMore!: boolean;
}
