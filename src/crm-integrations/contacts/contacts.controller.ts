import { Body, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { Auth, type AuthContext } from '../auth/auth-context';
import { ApiProblems } from '../http/api-problems.decorator';
import { CrmApiController } from '../http/crm-api-controller.decorator';
import { TenantParams } from '../tenants/tenant.dto';
import {
  ContactPageDto,
  ContactParams,
  ContactResponseDto,
  ListContactsQuery,
  UpdateContactDto,
  UpsertContactDto,
} from './contact.dto';
import { ContactService } from './contact.service';

@CrmApiController('tenants/:tenantId/contacts', 'contacts')
export class ContactsController {
  constructor(private readonly service: ContactService) {}

  @Get()
  @ApiOkResponse({ type: ContactPageDto })
  @ApiProblems(400, 404, 422)
  list(
    @Auth() auth: AuthContext,
    @Param() { tenantId }: TenantParams,
    @Query() query: ListContactsQuery,
  ): Promise<ContactPageDto> {
    return this.service.list(auth, tenantId, query);
  }

  /** Upsert by e-mail: 201 when the contact is new, 200 when an existing one was updated. */
  @Post()
  @ApiCreatedResponse({ type: ContactResponseDto, description: 'A new contact' })
  @ApiOkResponse({ type: ContactResponseDto, description: 'An existing contact, updated' })
  @ApiProblems(400, 404, 413)
  async upsert(
    @Auth() auth: AuthContext,
    @Param() { tenantId }: TenantParams,
    @Body() dto: UpsertContactDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ContactResponseDto> {
    const { contact, created } = await this.service.upsert(auth, tenantId, dto);
    response.status(created ? 201 : 200);
    return contact;
  }

  @Get(':contactId')
  @ApiOkResponse({ type: ContactResponseDto })
  @ApiProblems(400, 404)
  get(@Auth() auth: AuthContext, @Param() params: ContactParams): Promise<ContactResponseDto> {
    return this.service.get(auth, params.tenantId, params.contactId);
  }

  @Patch(':contactId')
  @ApiOkResponse({ type: ContactResponseDto })
  @ApiProblems(400, 404, 413)
  update(
    @Auth() auth: AuthContext,
    @Param() params: ContactParams,
    @Body() dto: UpdateContactDto,
  ): Promise<ContactResponseDto> {
    return this.service.update(auth, params.tenantId, params.contactId, dto);
  }

  @Delete(':contactId')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(400, 404)
  remove(@Auth() auth: AuthContext, @Param() params: ContactParams): Promise<void> {
    return this.service.remove(auth, params.tenantId, params.contactId);
  }
}
