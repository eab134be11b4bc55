import { ConflictException, HttpException, HttpStatus, Inject, Injectable, Optional } from '@nestjs/common';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Contact } from '@pm/domain';
import { AuditService } from '../audit/audit.service';
import type { AuthContext } from '../auth/auth-context';
import { ContactRepository } from '../repositories';
import { TenantService } from '../tenants/tenant.service';
import {
  MAX_CONTACTS_PER_BATCH,
  type ContactBatchResponseDto,
  type ContactBatchResultDto,
} from './contact-batch.dto';
import { checkContact, checkEmail } from './contact-batch.validator';
import type { UpsertContactDto } from './contact.dto';
import { applyFields } from './contact.service';
import { CONTACT_PUSH_NOTIFIER, type ContactPushNotifier } from './contact-push-notifier';

/**
 * Batch upsert and delete keyed by e-mail, for the PenguinMails backend: each record is checked on its own, so a bad
 * one never fails its neighbours, and the good ones are written in one transaction.
 */
@Injectable()
export class ContactBatchService {
  constructor(
    private readonly contacts: ContactRepository,
    private readonly tenants: TenantService,
    private readonly audit: AuditService,
    @Optional() @Inject(CONTACT_PUSH_NOTIFIER) private readonly push?: ContactPushNotifier,
  ) {}

  async upsert(auth: AuthContext, tenantId: string, records: unknown[]): Promise<ContactBatchResponseDto> {
    refuseOversized('contacts', records.length);
    await this.tenants.require(tenantId);
    const results: ContactBatchResultDto[] = new Array(records.length);
    const valid: { index: number; dto: UpsertContactDto }[] = [];
    const firstIndex = new Map<string, number>();
    records.forEach((raw, index) => {
      const check = checkContact(raw);
      if (!check.ok) {
        results[index] = { index, email: check.email, status: 'rejected', reason: check.reason };
        return;
      }
      const email = check.contact.email;
      const earlier = firstIndex.get(email);
      if (earlier !== undefined) {
        results[index] = {
          index,
          email,
          status: 'rejected',
          reason: `email: the same e-mail is already at index ${earlier} of this batch`,
        };
        return;
      }
      firstIndex.set(email, index);
      valid.push({ index, dto: check.contact });
    });

    const existing = await this.byEmail(tenantId, [...firstIndex.keys()]);
    const written: { index: number; contact: Contact; created: boolean }[] = [];
    for (const { index, dto } of valid) {
      let contact = existing.get(dto.email);
      // A deleted contact comes back as itself, so its CRM links and history still apply.
      const created = !contact || Boolean(contact.deletedAt);
      if (!contact) contact = this.contacts.create(tenantId, dto.email);
      contact.deletedAt = null;
      applyFields(contact, dto);
      written.push({ index, contact, created });
    }
    try {
      await this.contacts.flush();
    } catch (error) {
      // Another request created one of these e-mails between our read and our write: nothing was written.
      if (error instanceof UniqueConstraintViolationException) {
        throw new ConflictException(
          'Another request created one of these contacts at the same time; nothing was written, send the batch again',
        );
      }
      throw error;
    }
    for (const { index, contact, created } of written) {
      results[index] = {
        index,
        email: contact.email,
        status: created ? 'created' : 'updated',
        id: contact.id,
      };
    }
    await this.push?.contactsChanged(
      tenantId,
      written.map(({ contact }) => contact.id),
    );
    const response = summarise(results);
    await this.audit.record(auth, {
      tenantId,
      action: 'contacts.batch_upserted',
      targetType: 'contacts',
      after: { created: response.created, updated: response.updated, rejected: response.rejected },
    });
    return response;
  }

  async remove(auth: AuthContext, tenantId: string, emails: unknown[]): Promise<ContactBatchResponseDto> {
    refuseOversized('emails', emails.length);
    await this.tenants.require(tenantId);
    const results: ContactBatchResultDto[] = new Array(emails.length);
    const checked = emails.map((raw) => checkEmail(raw));
    const existing = await this.byEmail(
      tenantId,
      checked.flatMap((check) => (check.ok ? [check.email] : [])),
    );
    const now = new Date();
    // An e-mail listed twice reports the same deletion twice.
    const deletedNow = new Set<string>();
    checked.forEach((check, index) => {
      if (!check.ok) {
        results[index] = {
          index,
          email: null,
          status: 'rejected',
          reason: check.reason,
        };
        return;
      }
      const contact = existing.get(check.email);
      if (!contact || (contact.deletedAt && !deletedNow.has(contact.email))) {
        results[index] = { index, email: check.email, status: 'not_found' };
        return;
      }
      contact.deletedAt = now;
      deletedNow.add(contact.email);
      results[index] = { index, email: check.email, status: 'deleted', id: contact.id };
    });
    await this.contacts.flush();
    await this.push?.contactsChanged(
      tenantId,
      results.flatMap((result) => (result.status === 'deleted' && result.id ? [result.id] : [])),
    );
    const response = summarise(results);
    await this.audit.record(auth, {
      tenantId,
      action: 'contacts.batch_deleted',
      targetType: 'contacts',
      after: { deleted: response.deleted, notFound: response.notFound, rejected: response.rejected },
    });
    return response;
  }

  /** Contacts of these e-mails (deleted ones included), in one query. */
  private async byEmail(tenantId: string, emails: string[]): Promise<Map<string, Contact>> {
    const found = await this.contacts.findManyByEmailsForSync(tenantId, emails);
    return new Map(found.map((contact) => [contact.email, contact]));
  }
}

function refuseOversized(field: string, count: number): void {
  if (count <= MAX_CONTACTS_PER_BATCH) return;
  throw new HttpException(
    {
      detail: `At most ${MAX_CONTACTS_PER_BATCH} ${field} per request; this one has ${count}`,
      invalidParams: [{ name: field, reason: `at most ${MAX_CONTACTS_PER_BATCH} ${field} per request` }],
    },
    HttpStatus.PAYLOAD_TOO_LARGE,
  );
}

function summarise(results: ContactBatchResultDto[]): ContactBatchResponseDto {
  const count = (status: ContactBatchResultDto['status']) =>
    results.filter((result) => result.status === status).length;
  return {
    created: count('created'),
    updated: count('updated'),
    deleted: count('deleted'),
    notFound: count('not_found'),
    rejected: count('rejected'),
    results,
  };
}
