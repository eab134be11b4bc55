import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { abortableSleep, DEFAULT_RETRY_POLICY, inBatches, shouldRetry } from '@pm/connector-kit';
import type { CrmConnection } from '@pm/domain';
import {
  CrmError,
  CrmErrorCode,
  INTEGRATION_PORTS,
  type ActivityResult,
  type IntegrationPortMap,
} from '@pm/integration-port';
import type { SessionProvider } from '@pm/sync-engine';
import { RateBudgetFactory } from '../sync/rate-budget.factory';
import { SyncLocks } from '../sync/sync-locks';
import { SYNC_SESSION_PROVIDER } from '../sync/sync.tokens';
import { planDelivery, type PlannedActivity } from './activity-inputs';
import { ActivityQueue } from './activity-queue';
import { ActivityRepository, type LogLine } from './activity.repository';
import { ContactStatusWriter } from './contact-status-writer';
import {
  ACTIVITY_DELIVERY_OPTIONS,
  deliveryBatchSize,
  openDeliveryCall,
  type ActivityDeliveryOptions,
  type DeliveryCall,
  type DeliveryCounts,
  type Interruption,
} from './delivery-call';
import { MissingContacts } from './missing-contacts';

export {
  ACTIVITY_DELIVERY_OPTIONS,
  deliveryBatchSize,
  type ActivityDeliveryOptions,
  type DeliveryCounts,
} from './delivery-call';

export type DeliveryOutcome =
  | ({ status: 'done'; more: boolean } & DeliveryCounts)
  | ({
      status: 'interrupted';
      reason: string;
      /** Try again after this long (0: soon). */
      retryAfterMs: number;
      /** The credentials were refused: a reconnect (then a sync) brings delivery back. */
      needsReconnect: boolean;
    } & DeliveryCounts)
  | { status: 'not_delivering'; reason: string }
  | { status: 'busy' };

const HELD_REASON = 'The contact is not linked in this CRM yet: held until a sync links it';
const notApplicable = (crmName: string) =>
  `Not applicable in ${crmName}: it has no place for this event; kept in PenguinMails`;

/**
 * Delivers one connection's waiting e-mail events into its CRM: resolves each contact's CRM record through the
 * record links contact sync keeps, holds events whose contact is not linked yet, rolls a message's opens and
 * clicks into one record, and writes in batches at the connector's limit on the rate budget's `activity`
 * priority. A rate limit, an outage or refused credentials interrupt the job and leave every event waiting; a
 * record the CRM rejects is marked failed with the CRM's message and tried again on the next delivery.
 */
@Injectable()
export class ActivityDeliveryService {
  private readonly logger = new Logger('ActivityDelivery');
  private readonly options: ActivityDeliveryOptions;

  constructor(
    private readonly repository: ActivityRepository,
    private readonly locks: SyncLocks,
    private readonly queue: ActivityQueue,
    private readonly budgets: RateBudgetFactory,
    private readonly missingContacts: MissingContacts,
    private readonly contactStatus: ContactStatusWriter,
    @Optional() @Inject(INTEGRATION_PORTS) private readonly ports?: IntegrationPortMap,
    @Optional() @Inject(SYNC_SESSION_PROVIDER) private readonly sessions?: SessionProvider,
    @Optional() @Inject(ACTIVITY_DELIVERY_OPTIONS) options?: ActivityDeliveryOptions,
  ) {
    this.options = options ?? {};
  }

  /** Delivers what waits for the connection, one delivery per connection at a time across all workers. */
  async deliver(connectionId: string): Promise<DeliveryOutcome> {
    // Without its lock (its session ended, or the process is stopping) the delivery stops: another worker may take it.
    const locked = await this.locks.withConnectionLock(`activity-delivery:${connectionId}`, (lockLost) =>
      this.deliverLocked(connectionId, lockLost),
    );
    return locked.acquired ? locked.result : { status: 'busy' };
  }

  /** After a sync run: a contact it linked may release held events, and refused ones are tried again. */
  async requestAfterSync(connectionId: string): Promise<void> {
    try {
      if ((await this.repository.countUndelivered(connectionId)) > 0) await this.queue.enqueue(connectionId);
    } catch (error) {
      // The sync run is recorded already; the next ingest or run asks again.
      this.logger.warn(
        `Could not queue activity delivery after sync: ${error instanceof Error ? error.message : error}`,
      );
    }
  }

  private async deliverLocked(connectionId: string, lockLost: AbortSignal): Promise<DeliveryOutcome> {
    const connection = await this.repository.findConnection(connectionId);
    if (!connection) return { status: 'not_delivering', reason: 'the connection was removed' };
    if (!connection.settings.activityLogging)
      return { status: 'not_delivering', reason: 'activity logging is off for this connection' };
    // Waiting events stay waiting: a reconnect, then its sync, brings delivery back.
    if (connection.status !== 'connected')
      return { status: 'not_delivering', reason: `the connection is ${connection.status}` };
    const port = this.ports?.[connection.provider];
    if (!port) return { status: 'not_delivering', reason: `no connector for "${connection.provider}"` };
    if (!this.sessions) return { status: 'not_delivering', reason: 'no session provider is configured' };

    const limit = this.options.maxEventsPerRun ?? 10_000;
    const events = await this.repository.undelivered(connection.id, limit);
    const counts: DeliveryCounts = { logged: 0, failed: 0, held: 0, skipped: 0, writes: 0 };
    if (events.length === 0) return { status: 'done', more: false, ...counts };

    const tenantId = connection.tenant.id;
    const links = await this.repository.linkedRecords(
      tenantId,
      connection.id,
      [...new Set(events.map((event) => event.email))],
      connection.settings.objects,
    );
    const delivery = openDeliveryCall({
      connection,
      port,
      sessions: this.sessions,
      budgets: this.budgets,
      options: this.options,
      signal: lockLost,
    });
    if (connection.settings.createMissingContacts === true) {
      // Receipts alone never create a contact: they have nothing to write.
      const missing = [
        ...new Set(events.filter((e) => e.type !== 'delivered' && !links.has(e.email)).map((e) => e.email)),
      ];
      try {
        const created = await this.missingContacts.link(connection, delivery.port, this.sessions, missing, {
          retryPolicy: this.options.retryPolicy ?? DEFAULT_RETRY_POLICY,
          sleep: this.options.sleep ?? abortableSleep,
        });
        for (const [email, link] of created.links) links.set(email, link);
        await this.repository.writeLog(created.lines);
      } catch (error) {
        return { ...(await this.interruption(connection, delivery.crmName, error)), ...counts };
      }
    }
    const messageIds = [
      ...new Set(events.filter((e) => e.type === 'opened' || e.type === 'clicked').map((e) => e.messageId)),
    ];
    const plan = planDelivery(
      events,
      links,
      await this.repository.messageRecords(connection.id, messageIds),
      await this.repository.engagement(connection.id, messageIds),
      port.capabilities().emailStatusFields,
    );
    await this.repository.markHeld(plan.held, HELD_REASON);
    await this.repository.markSkipped(plan.skipped, notApplicable(delivery.crmName));
    counts.held = plan.held.length;
    counts.skipped = plan.skipped.length;

    const stopped = await this.contactStatus.write(connection, delivery, plan.contactUpdates, counts);
    const interrupted = stopped
      ? await this.interruption(connection, delivery.crmName, stopped.error)
      : await this.write(connection, delivery, plan.activities, counts);
    if (interrupted) return { ...interrupted, ...counts };
    // More waiting, and this job got somewhere: go on at once (held or refused alone wait for the next trigger).
    const more = events.length >= limit && counts.logged + counts.skipped > 0;
    return { status: 'done', more, ...counts };
  }

  /** Writes the planned activities batch by batch; returns why it stopped early, if it did. */
  private async write(
    connection: CrmConnection,
    delivery: DeliveryCall,
    activities: PlannedActivity[],
    counts: DeliveryCounts,
  ): Promise<Interruption | null> {
    if (activities.length === 0) return null;
    const batchSize = deliveryBatchSize(delivery.port.capabilities());
    for (const batch of inBatches(activities, batchSize)) {
      let results: ActivityResult[];
      try {
        results = await delivery.call((session) =>
          delivery.port.logActivities(
            session,
            batch.map((activity) => activity.input),
          ),
        );
      } catch (error) {
        return this.interruption(connection, delivery.crmName, error);
      }
      await this.record(connection, delivery.crmName, batch, results, counts);
    }
    return null;
  }

  private async record(
    connection: CrmConnection,
    crmName: string,
    batch: PlannedActivity[],
    results: ActivityResult[],
    counts: DeliveryCounts,
  ): Promise<void> {
    const delivered: { deliveryId: string; crmId: string }[] = [];
    const lines: LogLine[] = [];
    const line = (activity: PlannedActivity, action: LogLine['action'], message: string, details = {}) =>
      lines.push({
        tenantId: connection.tenant.id,
        connectionId: connection.id,
        action,
        object: 'activity',
        recordKey: activity.input.contact.email,
        message,
        details: { key: activity.input.key, events: activity.deliveryIds.length, ...details },
      });
    for (const [index, activity] of batch.entries()) {
      const result = results[index];
      counts.writes++;
      if (result?.ok) {
        for (const deliveryId of activity.deliveryIds) delivered.push({ deliveryId, crmId: result.crmId });
        if (activity.rollUp) {
          const { messageId, engagement } = activity.rollUp;
          await this.repository.saveMessageRecord(connection.id, messageId, result.crmId, engagement);
        }
        counts.logged += activity.deliveryIds.length;
        line(activity, 'activity_logged', `Activity logged: ${activity.label} → ${crmName}`, {
          crmId: result.crmId,
          ...(activity.input.engagement ?? {}),
        });
        continue;
      }
      const error = result?.error ?? {
        code: CrmErrorCode.UNKNOWN,
        message: 'The connector returned no result',
      };
      await this.repository.markFailed(activity.deliveryIds, `${error.code}: ${error.message}`);
      // The roll-up record is gone from the CRM: the next delivery creates a new one.
      if (activity.rollUp && activity.input.crmId && error.code === CrmErrorCode.NOT_FOUND)
        await this.repository.forgetMessageRecord(connection.id, activity.rollUp.messageId);
      counts.failed += activity.deliveryIds.length;
      line(activity, 'error', `Activity not logged: ${activity.label} → ${crmName}: ${error.message}`, {
        code: error.code,
      });
    }
    await this.repository.markDelivered(delivered);
    await this.repository.writeLog(lines);
  }

  private async interruption(
    connection: CrmConnection,
    crmName: string,
    error: unknown,
  ): Promise<Interruption> {
    const decision = shouldRetry(error, Number.MAX_SAFE_INTEGER);
    const needsReconnect =
      CrmError.is(error, CrmErrorCode.AUTH_REVOKED) || CrmError.is(error, CrmErrorCode.AUTH_EXPIRED);
    const reason =
      error instanceof CrmError
        ? `${error.code}: ${error.message}`
        : error instanceof Error
          ? error.message
          : String(error);
    this.logger.warn(`Activity delivery for ${connection.id} interrupted (nothing lost): ${reason}`);
    await this.repository.writeLog([
      {
        tenantId: connection.tenant.id,
        connectionId: connection.id,
        action: 'error',
        object: 'activity',
        recordKey: '',
        message: `Activity delivery to ${crmName} paused, events kept for later: ${reason}`,
        details: { code: error instanceof CrmError ? error.code : null },
      },
    ]);
    return {
      status: 'interrupted' as const,
      reason,
      retryAfterMs: decision.waitMs,
      needsReconnect,
    };
  }
}
