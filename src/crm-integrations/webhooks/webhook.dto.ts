import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { WEBHOOK_DELIVERY_STATUSES, type WebhookDelivery, type WebhookDeliveryStatus } from '@pm/domain';
import { TenantParams } from '../tenants/tenant.dto';

export const MAX_SECRET_OVERLAP_HOURS = 168;

export class SetWebhookEndpointDto {
  @ApiProperty({
    example: 'https://backend.penguinmails.com/hooks/crm',
    description: 'Receives a POST per delivery',
  })
  @IsUrl(
    { require_protocol: true, protocols: ['http', 'https'], require_tld: false },
    { message: 'url must be an absolute http(s) URL' },
  )
  @MaxLength(2048)
  url!: string;
}

export class RotateWebhookSecretDto {
  @ApiPropertyOptional({
    default: 24,
    minimum: 0,
    maximum: MAX_SECRET_OVERLAP_HOURS,
    description: 'Hours the previous secret keeps signing a second v1 signature',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_SECRET_OVERLAP_HOURS)
  overlapHours?: number;
}

export class WebhookEndpointDto {
  @ApiProperty() url!: string;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'Until when the previous secret also signs',
  })
  previousSecretExpiresAt!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

/** The only answers that carry the secret: when it is created or rotated. It is not shown again. */
export class WebhookSecretDto {
  @ApiProperty({ type: WebhookEndpointDto }) endpoint!: WebhookEndpointDto;
  @ApiProperty({ description: 'The signing secret, shown once: keep it to verify signatures' })
  secret!: string;
}

export class DeliveryParams extends TenantParams {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'deliveryId must be a UUID' })
  deliveryId!: string;
}

export class ListDeliveriesQuery {
  @ApiPropertyOptional({ enum: WEBHOOK_DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(WEBHOOK_DELIVERY_STATUSES, {
    message: `status must be one of ${WEBHOOK_DELIVERY_STATUSES.join(', ')}`,
  })
  status?: WebhookDeliveryStatus;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export class WebhookDeliveryDto {
  @ApiProperty({
    format: 'uuid',
    description: 'Also sent as the PenguinMails-Delivery header and the body id',
  })
  id!: string;
  @ApiProperty({ enum: WEBHOOK_DELIVERY_STATUSES }) status!: WebhookDeliveryStatus;
  @ApiProperty() attempts!: number;
  @ApiPropertyOptional({ nullable: true, type: String }) lastError!: string | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) lastStatusCode!: number | null;
  @ApiPropertyOptional({ nullable: true, type: String }) nextAttemptAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) lastAttemptAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) deliveredAt!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ description: 'The feed sequence of its first change' }) firstSequence!: string;
  @ApiProperty({ description: 'The feed sequence of its last change' }) lastSequence!: string;

  static from(delivery: WebhookDelivery): WebhookDeliveryDto {
    const iso = (date?: Date | null) => (date ? date.toISOString() : null);
    return {
      id: delivery.id,
      status: delivery.status,
      attempts: delivery.attempts,
      lastError: delivery.lastError ?? null,
      lastStatusCode: delivery.lastStatusCode ?? null,
      nextAttemptAt: delivery.status === 'pending' ? iso(delivery.nextAttemptAt) : null,
      lastAttemptAt: iso(delivery.lastAttemptAt),
      deliveredAt: iso(delivery.deliveredAt),
      createdAt: delivery.createdAt.toISOString(),
      firstSequence: String(delivery.firstChangeId),
      lastSequence: String(delivery.lastChangeId),
    };
  }
}

export class WebhookDeliveryPageDto {
  @ApiProperty({ type: [WebhookDeliveryDto], description: 'Newest first' }) data!: WebhookDeliveryDto[];
  @ApiPropertyOptional({ nullable: true, type: String }) nextCursor!: string | null;
}
