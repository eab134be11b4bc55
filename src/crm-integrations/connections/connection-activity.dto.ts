import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** What the sync log counts for a day (UTC). */
export class ActivityCountsDto {
  @ApiProperty({ description: 'Contacts created, updated or deleted in PenguinMails from the CRM' })
  contactsIn!: number;
  @ApiProperty({ description: 'Contacts created, updated or deleted in the CRM from PenguinMails' })
  contactsOut!: number;
  @ApiProperty({ description: 'E-mail activities logged into the CRM' }) activitiesLogged!: number;
  @ApiProperty({ description: 'Field conflicts settled by the conflict policy' }) conflictsResolved!: number;
  @ApiProperty({ description: 'Records a side refused, and failed activity deliveries' }) errors!: number;
}

export class ConnectionActivityCountsDto extends ActivityCountsDto {
  @ApiProperty({ format: 'uuid' }) connectionId!: string;
  @ApiProperty({ example: 'hubspot' }) provider!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) crmAccountName!: string | null;
  @ApiProperty({ example: 'connected' }) status!: string;
  @ApiProperty({ example: 'healthy' }) health!: string;
}

/** Today's counts (UTC day so far), per connection and summed: the Sync Activity page's header. */
export class TodayCountsDto {
  @ApiProperty({ example: '2026-12-06', description: 'The UTC day counted' }) date!: string;
  @ApiProperty({ format: 'date-time', description: 'Start of the day (inclusive)' }) from!: string;
  @ApiProperty({ format: 'date-time', description: 'Now (exclusive)' }) to!: string;
  @ApiProperty({ type: ActivityCountsDto, description: 'Summed over the connections listed' })
  totals!: ActivityCountsDto;
  @ApiProperty({ type: [ConnectionActivityCountsDto] }) connections!: ConnectionActivityCountsDto[];
}
