import {
  CrmError,
  CrmErrorCode,
  type ActivityInput,
  type ActivityKind,
  type ActivityResult,
  type CrmSession,
} from '@pm/integration-port';
import type { PipedriveHttpClient } from './client';
import { isAccountLevelError, toRecordError } from './errors';
import { PIPEDRIVE_HTTP_FACTS, PIPEDRIVE_PROVIDER } from './http-facts';
import type { PipedriveApiRecord } from './objects';
import { collectPipedrivePages } from './pages';

/**
 * PenguinMails e-mail events as Pipedrive activities: `POST /api/v2/activities` with `type: "email"`, `done: true`,
 * the event's date and time, and `person_id` (plus `org_id` when known), so they show in the person's timeline.
 *
 * Idempotency: Pipedrive activities have no external id or idempotency key. The activity key is written into the
 * note (`[PenguinMails activity <URI-encoded key>]`); before creating, the person's activities updated since the earliest event
 * of the call (an activity is logged after its event happened) are listed once per person and any carrying the key
 * is returned instead of creating another. A redelivered event therefore finds its activity; the read costs one list
 * call per person and call.
 */

const KEY_MARKER = /\[PenguinMails activity ([^\]\s]+)\]/g;
/** Listing starts this long before the earliest event, for clocks that disagree a little. */
const LOOKBACK_MS = 3_600_000;

const KIND_LABELS: Readonly<Record<ActivityKind, string>> = {
  email_sent: 'E-mail sent',
  email_received: 'E-mail received',
  email_opened: 'E-mail opened',
  email_clicked: 'Link clicked in e-mail',
  email_replied: 'E-mail replied',
  email_bounced: 'E-mail bounced',
};

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function noteOf(activity: ActivityInput): string {
  const lines = [`<b>${escapeHtml(KIND_LABELS[activity.kind])}</b> (PenguinMails)`];
  if (activity.from) lines.push(`From: ${escapeHtml(activity.from)}`);
  if (activity.to?.length) lines.push(`To: ${escapeHtml(activity.to.join(', '))}`);
  if (activity.bodyText) lines.push('', escapeHtml(activity.bodyText));
  // URI-encoded so a message id's `<…@…>` survives Pipedrive's HTML note sanitising.
  lines.push('', `[PenguinMails activity ${encodeURIComponent(activity.key)}]`);
  return lines.join('<br>');
}

function activityBody(activity: ActivityInput, personId: number): Record<string, unknown> {
  const occurred = new Date(activity.occurredAt);
  if (Number.isNaN(occurred.getTime())) {
    throw new CrmError(
      CrmErrorCode.VALIDATION_FAILED,
      `occurredAt is not a timestamp: ${activity.occurredAt}`,
      {
        provider: PIPEDRIVE_PROVIDER,
        field: 'occurredAt',
      },
    );
  }
  const iso = occurred.toISOString();
  const body: Record<string, unknown> = {
    subject: activity.subject?.trim() || KIND_LABELS[activity.kind],
    type: 'email',
    done: true,
    due_date: iso.slice(0, 10),
    due_time: iso.slice(11, 16),
    person_id: personId,
    note: noteOf(activity),
  };
  const orgId = Number(activity.companyCrmId);
  if (activity.companyCrmId !== undefined && Number.isInteger(orgId) && orgId > 0) body.org_id = orgId;
  return body;
}

function personIdOf(activity: ActivityInput): number {
  const id = Number(activity.contact.crmId);
  if (activity.contact.object !== 'persons' || !Number.isInteger(id) || id <= 0) {
    throw new CrmError(
      CrmErrorCode.VALIDATION_FAILED,
      `Pipedrive activities belong to persons; got ${activity.contact.object} ${activity.contact.crmId}`,
      { provider: PIPEDRIVE_PROVIDER, field: 'contact' },
    );
  }
  return id;
}

export class PipedriveActivityLogger {
  constructor(private readonly http: PipedriveHttpClient) {}

  /** Creates one after another; an account-level failure (401, 403, 429, abort) stops the call and is thrown. */
  async logActivities(session: CrmSession, activities: ActivityInput[]): Promise<ActivityResult[]> {
    const logged = await this.loggedKeys(session, activities);
    // The same key twice in one call: one activity (or one failure), both results point at it.
    const byKey = new Map<string, ActivityResult>();
    for (const activity of activities) {
      if (byKey.has(activity.key)) continue;
      byKey.set(activity.key, await this.logOne(session, activity, logged.get(activity.key)));
    }
    return activities.map((activity) => ({ ...(byKey.get(activity.key) as ActivityResult) }));
  }

  private async logOne(
    session: CrmSession,
    activity: ActivityInput,
    loggedBefore: string | undefined,
  ): Promise<ActivityResult> {
    try {
      // A message's roll-up activity, logged before: update it in place.
      if (activity.crmId !== undefined)
        return { key: activity.key, ok: true, crmId: await this.update(session, activity) };
      if (loggedBefore !== undefined) return { key: activity.key, ok: true, crmId: loggedBefore };
      return { key: activity.key, ok: true, crmId: await this.create(session, activity) };
    } catch (error) {
      if (isAccountLevelError(error) || !(error instanceof CrmError)) throw error;
      return { key: activity.key, ok: false, error: toRecordError(error) };
    }
  }

  private async create(session: CrmSession, activity: ActivityInput): Promise<string> {
    const created = await this.http.api<PipedriveApiRecord>(session, {
      method: 'POST',
      path: '/api/v2/activities',
      body: activityBody(activity, personIdOf(activity)),
    });
    return String(created.data.id);
  }

  private async update(session: CrmSession, activity: ActivityInput): Promise<string> {
    const id = Number(activity.crmId);
    if (!Number.isInteger(id) || id <= 0) {
      throw new CrmError(CrmErrorCode.VALIDATION_FAILED, `Not a Pipedrive activity id: ${activity.crmId}`, {
        provider: PIPEDRIVE_PROVIDER,
        field: 'crmId',
      });
    }
    const { subject, due_date, due_time, note } = activityBody(activity, personIdOf(activity));
    const updated = await this.http.api<PipedriveApiRecord>(session, {
      method: 'PATCH',
      path: `/api/v2/activities/${id}`,
      body: { subject, due_date, due_time, note },
    });
    return String(updated.data.id);
  }

  /** Activity key → Pipedrive activity id, for the keys already logged on the call's persons. */
  private async loggedKeys(session: CrmSession, activities: ActivityInput[]): Promise<Map<string, string>> {
    const earliestByPerson = new Map<number, number>();
    for (const activity of activities) {
      if (activity.crmId !== undefined) continue;
      const personId = Number(activity.contact.crmId);
      const at = Date.parse(activity.occurredAt);
      if (activity.contact.object !== 'persons' || !Number.isInteger(personId) || Number.isNaN(at)) continue;
      earliestByPerson.set(personId, Math.min(at, earliestByPerson.get(personId) ?? at));
    }
    const found = new Map<string, string>();
    for (const [personId, earliest] of earliestByPerson) {
      const records = await collectPipedrivePages<PipedriveApiRecord>(
        this.http,
        session,
        PIPEDRIVE_HTTP_FACTS.pagination,
        {
          method: 'GET',
          path: '/api/v2/activities',
          query: {
            person_id: personId,
            updated_since: new Date(earliest - LOOKBACK_MS).toISOString().replace(/\.\d{3}Z$/, 'Z'),
            limit: PIPEDRIVE_HTTP_FACTS.pagination.maxPageSize,
          },
        },
      );
      for (const record of records) {
        const note = typeof record.note === 'string' ? record.note : '';
        for (const match of note.matchAll(KEY_MARKER)) {
          found.set(safeDecode(match[1]), String(record.id));
        }
      }
    }
    // Any failure here fails the call: creating without knowing what was logged could log an activity twice.
    return found;
  }
}
