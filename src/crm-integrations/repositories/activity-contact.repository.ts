import { Injectable } from '@nestjs/common';
import type { ContactEmailStatus } from '@pm/domain';
import type { LocalValues } from '@pm/sync-engine';
import { CrmRepository } from './base.repository';

/** A PenguinMails contact as the creation of a missing CRM contact reads it. */
export interface LocalContactValues {
  id: string;
  email: string;
  values: LocalValues;
}

/** A hard bounce or an unsubscribe to record on the PenguinMails contact. */
export interface EmailStatusMark {
  email: string;
  status: ContactEmailStatus;
  reason: string | null;
  at: Date;
}

/**
 * PenguinMails contacts as e-mail events touch them: marked by a hard bounce or an unsubscribe at ingest, and
 * created (e-mail only) where an event creates the CRM contact and PenguinMails has none. Set-based SQL through the
 * ORM's knex: ingest must stay fast, and delivery jobs run outside any request.
 */
@Injectable()
export class ActivityContactRepository extends CrmRepository {
  private get knex() {
    return this.fork().getKnex();
  }

  /** A table name in the plugin's schema (a host may keep the plugin's tables in a schema of their own). */
  private table(name: string): string {
    const schema = this.orm.config.get('schema');
    return schema ? `${schema}.${name}` : name;
  }

  /**
   * The tenant's PenguinMails contacts of these e-mails, each created (e-mail only) where the tenant has none yet;
   * a contact deleted in PenguinMails is left out (and not brought back).
   */
  async ensureLocalContacts(tenantId: string, emails: string[]): Promise<Map<string, LocalContactValues>> {
    const knex = this.knex;
    const contacts = this.table('contacts');
    await knex(contacts)
      .insert(
        emails.map((email) => ({
          id: knex.raw('gen_random_uuid()'),
          tenant_id: tenantId,
          email,
          custom_fields: '{}',
          created_at: knex.fn.now(),
          updated_at: knex.fn.now(),
        })),
      )
      .onConflict(['tenant_id', 'email'])
      .ignore();
    const rows: Record<string, string | null>[] = await knex(contacts)
      .select(
        'id',
        'email',
        'first_name as firstName',
        'last_name as lastName',
        'company',
        'title',
        'phone',
        'lifecycle_stage as lifecycleStage',
        'lead_status as leadStatus',
      )
      .where('tenant_id', tenantId)
      .whereIn('email', emails)
      .whereNull('deleted_at');
    return new Map(
      rows.map(({ id, ...values }) => [
        values.email as string,
        { id: id as string, email: values.email as string, values },
      ]),
    );
  }

  /**
   * Marks the tenant's contacts whose address hard-bounced or who unsubscribed, where the event is newer than what
   * the contact holds (events may arrive out of order).
   */
  async markEmailStatus(tenantId: string, marks: EmailStatusMark[]): Promise<void> {
    if (marks.length === 0) return;
    await this.knex.raw(
      `update ${this.table('contacts')} as c
          set email_status = v.status, email_status_reason = nullif(v.reason, ''), email_status_at = v.at
         from (select distinct on (email) * from unnest(?::text[], ?::text[], ?::text[], ?::timestamptz[])
                 as m(email, status, reason, at) order by email, at desc) as v
        where c.tenant_id = ? and c.email = v.email and (c.email_status_at is null or c.email_status_at <= v.at)`,
      [
        marks.map((mark) => mark.email),
        marks.map((mark) => mark.status),
        marks.map((mark) => mark.reason ?? ''),
        marks.map((mark) => mark.at.toISOString()),
        tenantId,
      ],
    );
  }
}
