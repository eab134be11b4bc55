import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, IsUrl, IsUUID, Matches, MaxLength } from 'class-validator';

export class StartConnectionDto {
  @ApiProperty({ example: 'salesforce', description: 'The CRM to connect' })
  @IsString()
  @Matches(/^[a-z][a-z0-9_-]{1,31}$/, { message: 'provider must be a CRM id such as "salesforce"' })
  provider!: string;

  @ApiPropertyOptional({ description: 'Where the browser returns after the CRM sign-in (an allowed origin)' })
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  @MaxLength(2000)
  returnTo?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Reconnect this connection (keeps settings, links, history)',
  })
  @IsOptional()
  @IsUUID('all', { message: 'connectionId must be a UUID' })
  connectionId?: string;

  @ApiPropertyOptional({
    description: 'Allow reconnecting to a different CRM account, discarding sync state',
  })
  @IsOptional()
  @IsBoolean()
  startOver?: boolean;
}

/** Reconnect an existing connection: a new sign-in link for its CRM that keeps its settings, links and history. */
export class ReconnectDto {
  @ApiPropertyOptional({ description: 'Where the browser returns after the CRM sign-in (an allowed origin)' })
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  @MaxLength(2000)
  returnTo?: string;

  @ApiPropertyOptional({
    description: 'Allow signing in to a different CRM account, discarding links and cursors',
  })
  @IsOptional()
  @IsBoolean()
  startOver?: boolean;
}

export class StartConnectionResponseDto {
  @ApiProperty({
    description:
      "Send the user's browser here (a start link on this service, valid once): it binds the sign-in to that " +
      "browser and forwards it to the CRM's sign-in page",
  })
  authorizeUrl!: string;

  @ApiProperty({ description: 'The sign-in link stops working after this time' })
  expiresAt!: string;
}

export class DisconnectResponseDto {
  @ApiProperty() status!: 'disconnected';
  @ApiProperty({ description: 'Whether the CRM confirmed revoking the token' }) revokedAtCrm!: boolean;
  @ApiPropertyOptional() reason?: string;
}
