import { HttpException, HttpStatus, Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import type { AuthContext } from '../auth/auth-context';
import { ActivityContactRepository } from '../repositories';
import { TenantService } from '../tenants/tenant.service';
import { MAX_EVENTS_PER_INGEST, type IngestResponseDto, type IngestResultDto } from './activity-event.dto';
import { checkEvent, type ValidEvent } from './activity-event.validator';
import { ActivityQueue } from './activity-queue';
import { ActivityRepository } from './activity.repository';

/**
 * Accepts e-mail events from the PenguinMails backend: checks each one on its own, stores the new ones with a
 * pending delivery per connection that logs activities, and queues one delivery job per connection. It never waits
 * on a CRM.
 */
@Injectable()
export class ActivityIngestService {
  private readonly logger = new Logger('ActivityIngest');

  constructor(
    private readonly tenants: TenantService,
    private readonly repository: ActivityRepository,
    private readonly queue: ActivityQueue,
    private readonly audit: AuditService,
    private readonly contacts: ActivityContactRepository,
  ) {}

  async ingest(auth: AuthContext, tenantId: string, events: unknown[]): Promise<IngestResponseDto> {
    if (events.length > MAX_EVENTS_PER_INGEST) {
      throw new HttpException(
        {
          detail: `At most ${MAX_EVENTS_PER_INGEST} events per request; this one has ${events.length}`,
          invalidParams: [{ name: 'events', reason: `at most ${MAX_EVENTS_PER_INGEST} events per request` }],
        },
        HttpStatus.PAYLOAD_TOO_LARGE,
      );
    }
    await this.tenants.require(tenantId);
    const results: IngestResultDto[] = new Array(events.length);
    const valid: { index: number; event: ValidEvent }[] = [];
    const seen = new Set<string>();
    events.forEach((raw, index) => {
      const check = checkEvent(raw);
      if (!check.ok) {
        results[index] = { index, eventId: check.eventId, status: 'rejected', reason: check.reason };
      } else if (seen.has(check.event.eventId)) {
        results[index] = { index, eventId: check.event.eventId, status: 'duplicate' };
      } else {
        seen.add(check.event.eventId);
        valid.push({ index, event: check.event });
      }
    });

    const connections = await this.repository.loggingConnections(tenantId);
    const stored = await this.repository.storeEvents(
      tenantId,
      valid.map((entry) => entry.event),
      connections.map((connection) => connection.id),
    );
    for (const { index, event } of valid) {
      results[index] = {
        index,
        eventId: event.eventId,
        status: stored.has(event.eventId) ? 'accepted' : 'duplicate',
      };
    }
    // A hard bounce or an unsubscribe marks the PenguinMails contact, whatever the connections. A repeat marks it
    // again: the events are committed before the marks, so a request that failed in between and is retried finds
    // its events stored and must still mark. Marking is idempotent and never replaces a newer mark.
    await this.contacts.markEmailStatus(
      tenantId,
      valid.flatMap(({ event }) => {
        const status =
          event.type === 'unsubscribed'
            ? ('unsubscribed' as const)
            : event.type === 'bounced' && event.bounceType === 'hard'
              ? ('bounced' as const)
              : undefined;
        return status ? [{ email: event.email, status, reason: event.reason, at: event.occurredAt }] : [];
      }),
    );
    if (stored.size > 0) await this.enqueue(connections.map((connection) => connection.id));

    const response: IngestResponseDto = {
      accepted: stored.size,
      duplicates: results.filter((result) => result.status === 'duplicate').length,
      rejected: results.filter((result) => result.status === 'rejected').length,
      results,
    };
    await this.audit.record(auth, {
      tenantId,
      action: 'activities.ingested',
      targetType: 'activity_events',
      after: { accepted: response.accepted, duplicates: response.duplicates, rejected: response.rejected },
    });
    return response;
  }

  /** Events are stored and pending: a queue hiccup only delays them until the next ingest or sync run. */
  private async enqueue(connectionIds: string[]): Promise<void> {
    await Promise.all(
      connectionIds.map((connectionId) =>
        this.queue.enqueue(connectionId).catch((error: unknown) => {
          this.logger.warn(
            `Could not queue activity delivery for ${connectionId}: ${error instanceof Error ? error.message : error}`,
          );
        }),
      ),
    );
  }
}
