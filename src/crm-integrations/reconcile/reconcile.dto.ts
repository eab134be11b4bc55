import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ReconcileDrift, SyncRun } from '@pm/domain';
import { SyncRunResponseDto } from '../sync/sync.dto';

export class ReconcileRunResponseDto extends SyncRunResponseDto {
  @ApiPropertyOptional({
    nullable: true,
    description:
      'What the reconcile found, per CRM object: both sides\u2019 totals and the drift by kind (null until it has run)',
    example: {
      contacts: {
        crmRecords: 60,
        localContacts: 67,
        missingInCrm: 7,
        changedInCrm: 0,
        notInCrm: 0,
        changedLocally: 0,
        notInPenguinMails: 0,
      },
    },
  })
  drift!: ReconcileDrift | null;

  static fromRun(run: SyncRun): ReconcileRunResponseDto {
    return { ...SyncRunResponseDto.from(run), drift: run.drift ?? null };
  }
}

export class ReconcileNowResponseDto {
  @ApiProperty({
    description: 'False when a reconcile of the connection was already waiting (that one is returned)',
  })
  queued!: boolean;
  @ApiProperty({ type: ReconcileRunResponseDto }) run!: ReconcileRunResponseDto;
}
