import { Body, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiResponse } from '@nestjs/swagger';
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
import { BatchDeleteContactsDto, BatchUpsertContactsDto, ContactBatchResponseDto } from './contact-batch.dto';
import { ContactBatchService } from './contact-batch.service';
import { ContactChangePageDto, ContactChangesQuery } from './contact-change.dto';
import { ContactChangeFeedService } from './contact-change-feed.service';
import { Idempotent } from '../idempotency/idempotent.decorator';

@CrmApiController('tenants/:tenantId/contacts', 'contacts')
export class ContactsController {
  constructor(
    private readonly service: ContactService,
    private readonly batches: ContactBatchService,
    private readonly feed: ContactChangeFeedService,
  ) {}

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
  @Idempotent()
  @ApiCreatedResponse({ type: ContactResponseDto, description: 'A new contact' })
  @ApiOkResponse({ type: ContactResponseDto, description: 'An existing contact, updated' })
  @ApiProblems(400, 404, 409, 413, 422)
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

  /** Upsert up to 1,000 contacts by e-mail: 207 with one result per contact, in request order. */
  @Post('batch')
  @Idempotent()
  @HttpCode(207)
  @ApiResponse({ status: 207, type: ContactBatchResponseDto, description: 'One result per contact' })
  @ApiProblems(
    400,
    [413, 'More than 1,000 contacts, or a body over the size limit (invalidParams names it)'],
    409,
    422,
  )
  upsertBatch(
    @Auth() auth: AuthContext,
    @Param() { tenantId }: TenantParams,
    @Body() body: BatchUpsertContactsDto,
  ): Promise<ContactBatchResponseDto> {
    return this.batches.upsert(auth, tenantId, body.contacts);
  }

  /** Delete up to 1,000 contacts by e-mail: 207 with one result per e-mail, in request order. */
  @Post('batch-delete')
  @Idempotent()
  @HttpCode(207)
  @ApiResponse({ status: 207, type: ContactBatchResponseDto, description: 'One result per e-mail' })
  @ApiProblems(
    400,
    [413, 'More than 1,000 e-mails, or a body over the size limit (invalidParams names it)'],
    409,
    422,
  )
  deleteBatch(
    @Auth() auth: AuthContext,
    @Param() { tenantId }: TenantParams,
    @Body() body: BatchDeleteContactsDto,
  ): Promise<ContactBatchResponseDto> {
    return this.batches.remove(auth, tenantId, body.emails);
  }

  /**
   * The change feed: changes the CRMs made to contacts, oldest first, each naming its connection and the fields it
   * moved. Resume from `nextCursor`; a change is never skipped or repeated across pages and restarts. Entries are
   * kept `retention.changeFeedDays` (30 by default): a cursor older than the kept entries gets 410, never a gap.
   */
  @Get('changes')
  @ApiOkResponse({ type: ContactChangePageDto })
  @ApiProblems(400, [410, 'The cursor is older than the kept entries (invalidParams names it): start again'])
  changes(
    @Auth() auth: AuthContext,
    @Param() { tenantId }: TenantParams,
    @Query() query: ContactChangesQuery,
  ): Promise<ContactChangePageDto> {
    return this.feed.page(auth, tenantId, query);
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
