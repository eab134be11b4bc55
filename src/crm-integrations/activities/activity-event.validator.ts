import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { normaliseEmail } from '@pm/domain';
import { compileQuickDtoCheck } from '../http/quick-dto-check';
import { ActivityEventDto, OCCURRED_AT_MESSAGE } from './activity-event.dto';

/** An event as stored: validated, e-mail normalised, time parsed. */
export interface ValidEvent {
  eventId: string;
  type: ActivityEventDto['type'];
  messageId: string;
  campaignId: string | null;
  email: string;
  subject: string | null;
  occurredAt: Date;
  url: string | null;
  snippet: string | null;
  bounceType: ActivityEventDto['bounceType'] | null;
  reason: string | null;
}

export type EventCheck =
  | { ok: true; event: ValidEvent }
  | { ok: false; eventId: string | null; reason: string };

function reasons(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const name = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((reason) =>
      reason.startsWith(error.property) ? reason : `${name}: ${reason}`,
    );
    return [...own, ...reasons(error.children ?? [], name)];
  });
}

/** A batch is up to 1,000 events: a valid one skips class-validator's per-call work (same rules, same DTO). */
const quickCheck = compileQuickDtoCheck(ActivityEventDto);

/** Checks one event of an ingest batch on its own, with the same DTO rules as every other route. */
export function checkEvent(raw: unknown): EventCheck {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, eventId: null, reason: 'each event must be an object' };
  }
  if (quickCheck?.(raw as Record<string, unknown>)) return storable(raw as ActivityEventDto);
  const rawId = (raw as Record<string, unknown>).eventId;
  const eventId = typeof rawId === 'string' ? rawId : null;
  const dto = plainToInstance(ActivityEventDto, raw);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) return { ok: false, eventId, reason: reasons(errors).join('; ') };
  return storable(dto);
}

function storable(dto: ActivityEventDto): EventCheck {
  // ISO-8601 week and ordinal dates (2026-W49-1, 2026-340) and decimal commas pass the validator but not Date.
  const occurredAt = new Date(dto.occurredAt);
  if (Number.isNaN(occurredAt.getTime()))
    return { ok: false, eventId: dto.eventId, reason: OCCURRED_AT_MESSAGE };
  return {
    ok: true,
    event: {
      eventId: dto.eventId,
      type: dto.type,
      messageId: dto.messageId,
      campaignId: dto.campaignId ?? null,
      email: normaliseEmail(dto.email),
      subject: dto.subject ?? null,
      occurredAt,
      url: dto.url ?? null,
      snippet: dto.snippet ?? null,
      bounceType: dto.bounceType ?? null,
      reason: dto.reason ?? null,
    },
  };
}
