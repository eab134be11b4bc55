import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ConnectFlowService } from './connect-flow.service';

/**
 * The browser's side of the connect flow: the start link (binds the state to this browser, then on to the CRM) and
 * where the CRM sends the browser back. Not service-token routes: the `state` and the browser's cookie are the
 * credential.
 */
@ApiExcludeController()
@Controller('oauth')
export class OAuthCallbackController {
  constructor(private readonly flow: ConnectFlowService) {}

  @Get(':provider/start')
  start(
    @Param('provider') provider: string,
    @Query('state') state: unknown,
    @Res() res: Response,
  ): Promise<void> {
    return this.flow.openStartLink(provider, typeof state === 'string' ? state : undefined, res);
  }

  @Get(':provider/callback')
  callback(@Param('provider') provider: string, @Req() req: Request, @Res() res: Response): void {
    return this.flow.handleCallback(provider, req, res);
  }
}
