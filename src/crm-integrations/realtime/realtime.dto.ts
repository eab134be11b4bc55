import { ApiProperty } from '@nestjs/swagger';

export class WebhookAcceptedDto {
  @ApiProperty({ description: 'Change hints queued (one per connection and record)', example: 2 })
  accepted!: number;
}

export class RealtimeStatusDto {
  @ApiProperty({ description: "The connection's `realtime` setting" })
  enabled!: boolean;

  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      'Median end-to-end lag (change in the CRM → applied here) over the latest applied change events',
    example: 850,
  })
  lagP50Ms!: number | null;

  @ApiProperty({
    nullable: true,
    type: Number,
    description: '95th percentile of the same lag',
    example: 2100,
  })
  lagP95Ms!: number | null;

  @ApiProperty({ description: 'Change events received in the last hour (after de-duplication)', example: 42 })
  eventsLastHour!: number;
}
