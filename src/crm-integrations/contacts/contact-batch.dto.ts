import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray } from 'class-validator';
import { UpsertContactDto } from './contact.dto';

/** Most contacts one batch call takes; more is refused whole with 413 naming the limit. */
export const MAX_CONTACTS_PER_BATCH = 1_000;

export class BatchUpsertContactsDto {
  @ApiProperty({
    type: [UpsertContactDto],
    maxItems: MAX_CONTACTS_PER_BATCH,
    description: 'Keyed by e-mail; each contact is validated on its own, see the per-contact results',
  })
  @IsArray({ message: 'contacts must be an array' })
  contacts!: unknown[];
}

export class BatchDeleteContactsDto {
  @ApiProperty({
    type: [String],
    maxItems: MAX_CONTACTS_PER_BATCH,
    example: ['john@example.com'],
    description: 'E-mails of the contacts to delete; each is checked on its own',
  })
  @IsArray({ message: 'emails must be an array' })
  emails!: unknown[];
}

export const CONTACT_BATCH_STATUSES = ['created', 'updated', 'deleted', 'not_found', 'rejected'] as const;
export type ContactBatchStatus = (typeof CONTACT_BATCH_STATUSES)[number];

export class ContactBatchResultDto {
  @ApiProperty({ description: "The record's position in the request" }) index!: number;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'The normalised e-mail' })
  email!: string | null;
  @ApiProperty({ enum: CONTACT_BATCH_STATUSES }) status!: ContactBatchStatus;
  @ApiPropertyOptional({ format: 'uuid', description: 'The contact (created, updated, deleted)' })
  id?: string;
  @ApiPropertyOptional({ description: 'Why it was rejected, naming each bad field' }) reason?: string;
}

/** 207 Multi-Status: one result per record, in request order. */
export class ContactBatchResponseDto {
  @ApiProperty() created!: number;
  @ApiProperty() updated!: number;
  @ApiProperty() deleted!: number;
  @ApiProperty({ description: 'E-mails with no (live) contact: nothing to delete' }) notFound!: number;
  @ApiProperty() rejected!: number;
  @ApiProperty({ type: [ContactBatchResultDto] }) results!: ContactBatchResultDto[];
}
