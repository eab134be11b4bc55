import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ConnectFlowService } from './connect-flow.service';

/**
 * The browser's side of the connect flow: the start link (binds the state to this browser, then on to the CRM) and
 * where the CRM sends the browser back. Not service-token routes: the `state` and the browser's cookie are the
 * credential. They answer a person with an HTML page (or a redirect), never JSON.
 */
const HTML_PAGE = { 'text/html': { schema: { type: 'string' } } };

@ApiTags('oauth (browser)')
@ApiParam({ name: 'provider', example: 'hubspot', description: 'The CRM id' })
@Controller('oauth')
export class OAuthCallbackController {
  constructor(private readonly flow: ConnectFlowService) {}

  /** The sign-in link `POST …/connections` returns: opened once, by the user's browser. */
  @Get(':provider/start')
  @ApiQuery({
    name: 'state',
    type: String,
    required: true,
    description: 'The single-use state of the sign-in link',
  })
  @ApiResponse({ status: 302, description: "To the CRM's sign-in page (sets the browser-binding cookie)" })
  @ApiResponse({
    status: 400,
    description: 'The link expired, was already opened, or is for another CRM (an HTML page)',
    content: HTML_PAGE,
  })
  start(
    @Param('provider') provider: string,
    @Query('state') state: unknown,
    @Res() res: Response,
  ): Promise<void> {
    return this.flow.openStartLink(provider, typeof state === 'string' ? state : undefined, res);
  }

  /** Where the CRM sends the browser back; register `$PUBLIC_URL/oauth/<crm>/callback` with each CRM. */
  @Get(':provider/callback')
  @ApiResponse({ status: 200, description: '"Connected to …" (an HTML page)', content: HTML_PAGE })
  @ApiResponse({ status: 302, description: 'To the `returnTo` address, with connectionId and status' })
  @ApiResponse({
    status: 400,
    description: 'A replayed, expired or foreign state, or a cancelled sign-in (an HTML page)',
    content: HTML_PAGE,
  })
  @ApiResponse({ status: 404, description: 'An unknown CRM (an HTML page)', content: HTML_PAGE })
  @ApiResponse({
    status: 409,
    description: 'Signed in to a different CRM account than the connection uses (an HTML page)',
    content: HTML_PAGE,
  })
  callback(@Param('provider') provider: string, @Req() req: Request, @Res() res: Response): void {
    return this.flow.handleCallback(provider, req, res);
  }
}
