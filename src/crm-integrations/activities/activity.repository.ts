import { inBatches } from '@pm/connector-kit';
import { Inject, Injectable } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { CrmConnection, type ActivityDeliveryStatus, type ActivityEventType } from '@pm/domain';
import { CRM_ORM } from '../database/crm-database';
import type { ValidEvent } from './activity-event.validator';

/** An event waiting for one connection, as the delivery job reads it. */
export interface DeliverableEvent {
  deliveryId: string;
  status: ActivityDeliveryStatus;
  attempts: number;
  eventId: string;
  type: ActivityEventType;
  messageId: string;
  campaignId: string | null;
  email: string;
  subject: string | null;
  occurredAt: Date;
  url: string | null;
  snippet: string | null;
  bounceType: string | null;
  reason: string | null;
}

/** The CRM record a contact is linked to in one connection. */
export interface LinkedRecord {
  crmObject: string;
  crmId: string;
}

export interface MessageEngagement {
  opens: number;
  clicks: number;
  firstAt: Date;
  lastAt: Date;
  urls: string[];
}

export interface DayCounts {
  date: string;
  logged: number;
  held: number;
  failed: number;
}

export interface LogLine {
  tenantId: string;
  connectionId: string;
  action: 'activity_logged' | 'created' | 'updated' | 'skipped' | 'error';
  object: string;
  recordKey: string;
  message: string;
  details: Record<string, unknown>;
}

const UNDELIVERED: ActivityDeliveryStatus[] = ['pending', 'failed', 'held'];

/**
 * Every query of activity logging. Jobs run outside HTTP requests and ingest must stay fast, so this speaks SQL
 * through the ORM's knex (set-based inserts with ON CONFLICT, updates by id lists) instead of loading entities.
 */
@Injectable()
export class ActivityRepository {
  constructor(@Inject(CRM_ORM) private readonly orm: MikroORM) {}

  private get knex() {
    return this.orm.em.fork().getKnex();
  }

  /** A table name in the plugin's schema (a host may keep the plugin's tables in a schema of their own). */
  private table(name: string): string {
    const schema = this.orm.config.get('schema');
    return schema ? `${schema}.${name}` : name;
  }

  /** Connections of the tenant that log activities now or after a reconnect. */
  async loggingConnections(tenantId: string): Promise<CrmConnection[]> {
    const connections = await this.orm.em
      .fork()
      .find(CrmConnection, { tenant: tenantId, status: { $ne: 'disconnected' } });
    return connections.filter((connection) => connection.settings.activityLogging);
  }

  findConnection(connectionId: string): Promise<CrmConnection | null> {
    return this.orm.em.fork().findOne(CrmConnection, { id: connectionId });
  }

  findConnectionForTenant(tenantId: string, connectionId: string): Promise<CrmConnection | null> {
    return this.orm.em.fork().findOne(CrmConnection, { id: connectionId, tenant: tenantId });
  }

  /**
   * Stores the events new for the tenant (an event id seen before is left alone) and a pending delivery of each
   * new one per connection, in one statement (so one round trip, and all or nothing). Returns the event ids that
   * were new. The events go as one array per column: a batch of 1,000 costs no per-row SQL building here.
   */
  async storeEvents(tenantId: string, events: ValidEvent[], connectionIds: string[]): Promise<Set<string>> {
    if (events.length === 0) return new Set();
    // A text column as an array; a field left out is a null entry, which pg sends as NULL (knex's binding types
    // have no arrays with nulls).
    const column = (key: Exclude<keyof ValidEvent, 'occurredAt'>) =>
      events.map((event) => event[key] ?? null) as string[];
    const result = await this.knex.raw<{ rows: { event_id: string }[] }>(
      `with incoming as (
         select * from unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[],
                              ?::text[], ?::text[], ?::text[], ?::text[])
           as e(event_id, type, message_id, campaign_id, email, subject, occurred_at, url, snippet, bounce_type, reason)
       ), stored as (
         insert into ${this.table('activity_events')} (id, tenant_id, event_id, type, message_id, campaign_id, email,
                                                       subject, occurred_at, url, snippet, bounce_type, reason, received_at)
         select gen_random_uuid(), ?, event_id, type, message_id, campaign_id, email, subject, occurred_at, url,
                snippet, bounce_type, reason, now()
           from incoming
         on conflict (tenant_id, event_id) do nothing
         returning id, event_id
       ), pending as (
         insert into ${this.table('activity_deliveries')} (id, connection_id, event_id, status, attempts, created_at)
         select gen_random_uuid(), connection.id, stored.id, 'pending', 0, now()
           from stored cross join unnest(?::uuid[]) as connection(id)
         on conflict (connection_id, event_id) do nothing
       )
       select event_id from stored`,
      [
        column('eventId'),
        column('type'),
        column('messageId'),
        column('campaignId'),
        column('email'),
        column('subject'),
        events.map((event) => event.occurredAt.toISOString()),
        column('url'),
        column('snippet'),
        column('bounceType'),
        column('reason'),
        tenantId,
        connectionIds,
      ],
    );
    return new Set(result.rows.map((row) => row.event_id));
  }

  /** Undelivered events of a connection: pending, then refused before, then held; oldest first within each. */
  async undelivered(connectionId: string, limit: number): Promise<DeliverableEvent[]> {
    const rows = await this.knex
      .select(
        'd.id as deliveryId',
        'd.status',
        'd.attempts',
        'e.event_id as eventId',
        'e.type',
        'e.message_id as messageId',
        'e.campaign_id as campaignId',
        'e.email',
        'e.subject',
        'e.occurred_at as occurredAt',
        'e.url',
        'e.snippet',
        'e.bounce_type as bounceType',
        'e.reason',
      )
      .from({ d: this.table('activity_deliveries') })
      .join({ e: this.table('activity_events') }, 'e.id', 'd.event_id')
      .where('d.connection_id', connectionId)
      .whereIn('d.status', UNDELIVERED)
      // New events first, then refused ones, then held ones: a pile of held events never starves new ones.
      .orderByRaw(`case d.status when 'pending' then 0 when 'failed' then 1 else 2 end, e.occurred_at, d.id`)
      .limit(limit);
    return rows.map((row: DeliverableEvent) => ({ ...row, occurredAt: new Date(row.occurredAt) }));
  }

  async countUndelivered(connectionId: string): Promise<number> {
    const [row] = await this.knex(this.table('activity_deliveries'))
      .where('connection_id', connectionId)
      .whereIn('status', UNDELIVERED)
      .count({ count: '*' });
    return Number(row?.count ?? 0);
  }

  /** E-mail → the CRM record its contact is linked to in this connection (record links kept by contact sync). */
  async linkedRecords(
    tenantId: string,
    connectionId: string,
    emails: string[],
    objectOrder: string[],
  ): Promise<Map<string, LinkedRecord>> {
    const found = new Map<string, LinkedRecord>();
    if (emails.length === 0) return found;
    const rows: { email: string; crm_object: string; crm_id: string }[] = await this.knex
      .select('c.email', 'l.crm_object', 'l.crm_id')
      .from({ c: this.table('contacts') })
      .join({ l: this.table('record_links') }, 'l.local_id', 'c.id')
      .where('c.tenant_id', tenantId)
      .whereIn('c.email', emails)
      .whereNull('c.deleted_at')
      .where('l.connection_id', connectionId)
      .where('l.local_object', 'contact')
      .whereNull('l.unlinked_at')
      .orderBy('l.created_at');
    // A contact linked to several objects (a Salesforce Contact and a Lead): the first in the connection's objects.
    const rank = (object: string) => {
      const position = objectOrder.indexOf(object);
      return position < 0 ? objectOrder.length : position;
    };
    for (const row of rows) {
      const current = found.get(row.email);
      if (!current || rank(row.crm_object) < rank(current.crmObject))
        found.set(row.email, { crmObject: row.crm_object, crmId: row.crm_id });
    }
    return found;
  }

  /** The roll-up record already in the CRM per message. */
  async messageRecords(connectionId: string, messageIds: string[]): Promise<Map<string, string>> {
    if (messageIds.length === 0) return new Map();
    const rows: { message_id: string; crm_id: string }[] = await this.knex(
      this.table('activity_message_records'),
    )
      .select('message_id', 'crm_id')
      .where('connection_id', connectionId)
      .whereIn('message_id', messageIds);
    return new Map(rows.map((row) => [row.message_id, row.crm_id]));
  }

  /** Opens and clicks per message, over every event of the message this connection received. */
  async engagement(connectionId: string, messageIds: string[]): Promise<Map<string, MessageEngagement>> {
    const result = new Map<string, MessageEngagement>();
    if (messageIds.length === 0) return result;
    const rows: { message_id: string; type: string; url: string | null; occurred_at: Date }[] =
      await this.knex
        .select('e.message_id', 'e.type', 'e.url', 'e.occurred_at')
        .from({ d: this.table('activity_deliveries') })
        .join({ e: this.table('activity_events') }, 'e.id', 'd.event_id')
        .where('d.connection_id', connectionId)
        .whereIn('e.message_id', messageIds)
        .whereIn('e.type', ['opened', 'clicked']);
    for (const row of rows) {
      const at = new Date(row.occurred_at);
      const entry = result.get(row.message_id) ?? { opens: 0, clicks: 0, firstAt: at, lastAt: at, urls: [] };
      if (row.type === 'opened') entry.opens++;
      else {
        entry.clicks++;
        if (row.url && !entry.urls.includes(row.url)) entry.urls.push(row.url);
      }
      if (at < entry.firstAt) entry.firstAt = at;
      if (at > entry.lastAt) entry.lastAt = at;
      result.set(row.message_id, entry);
    }
    return result;
  }

  async saveMessageRecord(
    connectionId: string,
    messageId: string,
    crmId: string,
    engagement: MessageEngagement,
  ): Promise<void> {
    await this.knex(this.table('activity_message_records'))
      .insert({
        id: this.knex.raw('gen_random_uuid()'),
        connection_id: connectionId,
        message_id: messageId,
        crm_id: crmId,
        opens: engagement.opens,
        clicks: engagement.clicks,
        last_event_at: engagement.lastAt,
        updated_at: this.knex.fn.now(),
      })
      .onConflict(['connection_id', 'message_id'])
      .merge(['crm_id', 'opens', 'clicks', 'last_event_at', 'updated_at']);
  }

  /** Marks deliveries delivered with the CRM record each became, in one statement per 5,000. */
  async markDelivered(delivered: { deliveryId: string; crmId: string }[]): Promise<void> {
    for (const chunk of inBatches(delivered, 5_000)) {
      await this.knex.raw(
        `update ${this.table('activity_deliveries')} as d
            set status = 'delivered', crm_id = v.crm_id, last_error = null, last_attempt_at = now(), delivered_at = now()
           from unnest(?::uuid[], ?::text[]) as v(id, crm_id)
          where d.id = v.id`,
        [chunk.map((entry) => entry.deliveryId), chunk.map((entry) => entry.crmId)],
      );
    }
  }

  /** Forgets a roll-up record the CRM no longer has, so the next open or click creates a new one. */
  async forgetMessageRecord(connectionId: string, messageId: string): Promise<void> {
    await this.knex(this.table('activity_message_records'))
      .where({ connection_id: connectionId, message_id: messageId })
      .delete();
  }

  async markFailed(deliveryIds: string[], error: string): Promise<void> {
    await this.update(deliveryIds, {
      status: 'failed',
      last_error: error,
      last_attempt_at: this.knex.fn.now(),
      attempts: this.knex.raw('attempts + 1'),
    });
  }

  async markHeld(deliveryIds: string[], why: string): Promise<void> {
    await this.update(deliveryIds, { status: 'held', last_error: why });
  }

  async markSkipped(deliveryIds: string[], why: string): Promise<void> {
    await this.update(deliveryIds, { status: 'skipped', last_error: why });
  }

  private async update(deliveryIds: string[], values: Record<string, unknown>): Promise<void> {
    for (const batch of inBatches(deliveryIds, 5_000)) {
      await this.knex(this.table('activity_deliveries')).whereIn('id', batch).update(values);
    }
  }

  async writeLog(lines: LogLine[]): Promise<void> {
    if (lines.length === 0) return;
    const knex = this.knex;
    for (const batch of inBatches(lines, 1_000)) {
      await knex(this.table('sync_log_entries')).insert(
        batch.map((line) => ({
          tenant_id: line.tenantId,
          connection_id: line.connectionId,
          run_id: null,
          at: knex.fn.now(),
          direction: 'to_crm',
          object: line.object,
          record_key: line.recordKey,
          action: line.action,
          message: line.message,
          details: JSON.stringify(line.details),
        })),
      );
    }
  }

  /** Now: how many wait, are held, failed; all time: logged. */
  async currentCounts(connectionId: string): Promise<Record<ActivityDeliveryStatus, number>> {
    const rows: { status: ActivityDeliveryStatus; count: string }[] = await this.knex(
      this.table('activity_deliveries'),
    )
      .select('status')
      .count({ count: '*' })
      .where('connection_id', connectionId)
      .groupBy('status');
    const counts = { pending: 0, held: 0, delivered: 0, failed: 0, skipped: 0 };
    for (const row of rows) counts[row.status] = Number(row.count);
    return counts;
  }

  /** Per UTC day, newest first: logged (delivered that day), held (received that day, still held), failed. */
  async dailyCounts(connectionId: string, since: Date): Promise<DayCounts[]> {
    const result = await this.knex.raw<{
      rows: { day: string; logged: string; held: string; failed: string }[];
    }>(
      `select day, sum(logged) as logged, sum(held) as held, sum(failed) as failed from (
         select to_char(delivered_at at time zone 'UTC', 'YYYY-MM-DD') as day, 1 as logged, 0 as held, 0 as failed
           from ${this.table('activity_deliveries')} where connection_id = ? and status = 'delivered' and delivered_at >= ?
         union all
         select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD'), 0, 1, 0
           from ${this.table('activity_deliveries')} where connection_id = ? and status = 'held' and created_at >= ?
         union all
         select to_char(last_attempt_at at time zone 'UTC', 'YYYY-MM-DD'), 0, 0, 1
           from ${this.table('activity_deliveries')} where connection_id = ? and status = 'failed' and last_attempt_at >= ?
       ) counted group by day`,
      [connectionId, since, connectionId, since, connectionId, since],
    );
    return result.rows.map((row) => ({
      date: row.day,
      logged: Number(row.logged),
      held: Number(row.held),
      failed: Number(row.failed),
    }));
  }
}
