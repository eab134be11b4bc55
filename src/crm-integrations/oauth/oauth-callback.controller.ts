import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ConnectFlowService } from './connect-flow.service';

/** Where the CRM sends the user's browser back. Not a service-token route: the `state` is the credential. */
@ApiExcludeController()
@Controller('oauth')
export class OAuthCallbackController {
  constructor(private readonly flow: ConnectFlowService) {}

  @Get(':provider/callback')
  callback(@Param('provider') provider: string, @Req() req: Request, @Res() res: Response): void {
    return this.flow.handleCallback(provider, req, res);
  }
}
