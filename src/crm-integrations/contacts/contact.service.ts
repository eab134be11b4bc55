import { Injectable, NotFoundException } from '@nestjs/common';
import { normaliseEmail, type Contact } from '@pm/domain';
import type { AuthContext } from '../auth/auth-context';
import { ContactRepository } from '../repositories';
import { TenantService } from '../tenants/tenant.service';
import { ValidationProblem } from '../http/problem-details.filter';
import {
  ContactResponseDto,
  type ContactFieldsDto,
  type ContactPageDto,
  type ListContactsQuery,
  type UpdateContactDto,
  type UpsertContactDto,
} from './contact.dto';

const FIELDS = [
  'firstName',
  'lastName',
  'company',
  'title',
  'phone',
  'lifecycleStage',
  'leadStatus',
] as const;

/**
 * The PenguinMails side of contact sync. The HTTP API and the sync engine both change contacts through here, so
 * normalisation and change tracking (`updatedAt`) are the same whoever writes.
 */
@Injectable()
export class ContactService {
  constructor(
    private readonly contacts: ContactRepository,
    private readonly tenants: TenantService,
  ) {}

  async list(_auth: AuthContext, tenantId: string, query: ListContactsQuery): Promise<ContactPageDto> {
    await this.tenants.require(tenantId);
    const limit = query.limit ?? 100;
    const page = await this.contacts.page({
      tenantId,
      limit,
      email: query.email,
      after: decodeCursor(query.cursor),
    });
    const last = page.at(-1);
    return {
      data: page.map((contact) => ContactResponseDto.from(contact)),
      nextCursor: page.length === limit && last ? encodeCursor(last) : null,
    };
  }

  async get(_auth: AuthContext, tenantId: string, contactId: string): Promise<ContactResponseDto> {
    return ContactResponseDto.from(await this.require(tenantId, contactId));
  }

  /** Creates the contact, or updates the one with the same (normalised) e-mail. */
  async upsert(
    _auth: AuthContext,
    tenantId: string,
    dto: UpsertContactDto,
  ): Promise<{ contact: ContactResponseDto; created: boolean }> {
    await this.tenants.require(tenantId);
    const existing = await this.contacts.findByEmail(tenantId, dto.email);
    if (existing && !existing.deletedAt) {
      applyFields(existing, dto);
      await this.contacts.flush();
      return { contact: ContactResponseDto.from(existing), created: false };
    }
    if (existing) {
      // A deleted contact comes back as itself, so its CRM links and history still apply.
      existing.deletedAt = null;
      applyFields(existing, dto);
      await this.contacts.flush();
      return { contact: ContactResponseDto.from(existing), created: true };
    }
    const contact = this.contacts.create(tenantId, dto.email);
    applyFields(contact, dto);
    await this.contacts.flush();
    return { contact: ContactResponseDto.from(contact), created: true };
  }

  async update(
    _auth: AuthContext,
    tenantId: string,
    contactId: string,
    dto: UpdateContactDto,
  ): Promise<ContactResponseDto> {
    const contact = await this.require(tenantId, contactId);
    if (dto.email && normaliseEmail(dto.email) !== contact.email) {
      const clash = await this.contacts.findByEmail(tenantId, dto.email);
      if (clash) {
        throw new ValidationProblem([
          { name: 'email', reason: 'another contact of this tenant has this e-mail' },
        ]);
      }
      contact.email = normaliseEmail(dto.email);
    }
    applyFields(contact, dto);
    await this.contacts.flush();
    return ContactResponseDto.from(contact);
  }

  async remove(_auth: AuthContext, tenantId: string, contactId: string): Promise<void> {
    const contact = await this.require(tenantId, contactId);
    contact.deletedAt = new Date();
    await this.contacts.flush();
  }

  private async require(tenantId: string, contactId: string): Promise<Contact> {
    await this.tenants.require(tenantId);
    const contact = await this.contacts.findById(tenantId, contactId);
    if (!contact) throw new NotFoundException(`Contact "${contactId}" does not exist for this tenant`);
    return contact;
  }
}

function applyFields(contact: Contact, dto: ContactFieldsDto): void {
  for (const field of FIELDS) {
    if (dto[field] !== undefined) contact[field] = dto[field];
  }
  if (dto.customFields !== undefined) contact.customFields = { ...contact.customFields, ...dto.customFields };
}

function encodeCursor(contact: Contact): string {
  return Buffer.from(`${contact.updatedAt.toISOString()}|${contact.id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor?: string): { updatedAt: Date; id: string } | undefined {
  if (!cursor) return undefined;
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const updatedAt = new Date(at);
  if (!id || Number.isNaN(updatedAt.getTime())) {
    throw new ValidationProblem([{ name: 'cursor', reason: 'is not a cursor this API returned' }]);
  }
  return { updatedAt, id };
}
