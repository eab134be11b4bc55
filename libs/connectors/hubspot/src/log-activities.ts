import { collectPages, inBatches } from '@pm/connector-kit';
import {
  AssociationSpecAssociationCategoryEnum,
  FilterOperatorEnum,
} from '@hubspot/api-client/lib/codegen/crm/objects';
import {
  PropertyCreateFieldTypeEnum,
  PropertyCreateTypeEnum,
} from '@hubspot/api-client/lib/codegen/crm/properties';
import {
  CrmError,
  CrmErrorCode,
  type ActivityInput,
  type ActivityKind,
  type ActivityResult,
  type CrmSession,
} from '@pm/integration-port';
import { runBatchIsolated, type BatchEntry } from './batch-outcomes';
import type { HubSpotCall } from './client';
import type { SdkObject } from './records';
import {
  HUBSPOT_DEFAULT_ACTIVITY_KEY_PROPERTY,
  HUBSPOT_MAX_BATCH,
  HUBSPOT_MAX_SEARCH_PAGE,
  type HubSpotConnectorConfig,
} from './config';

/** HubSpot-defined association types (developers.hubspot.com/docs/api/crm/associations/v4). */
const EMAIL_TO_CONTACT = 198;
const EMAIL_TO_COMPANY = 186;

/** How each PenguinMails event is shown as a HubSpot email engagement. */
const KIND_TO_EMAIL: Readonly<Record<ActivityKind, { direction: string; status: string; label?: string }>> = {
  email_sent: { direction: 'EMAIL', status: 'SENT' },
  email_received: { direction: 'INCOMING_EMAIL', status: 'SENT' },
  email_replied: { direction: 'INCOMING_EMAIL', status: 'SENT' },
  email_bounced: { direction: 'EMAIL', status: 'BOUNCED' },
  // HubSpot's email object has no open/click status: the engagement names the event in its subject.
  email_opened: { direction: 'EMAIL', status: 'SENT', label: 'Opened' },
  email_clicked: { direction: 'EMAIL', status: 'SENT', label: 'Clicked' },
};

interface ActivityEntry extends BatchEntry {
  activity: ActivityInput;
}

/**
 * logActivities: each activity becomes a HubSpot `emails` object associated to its contact (v4 type 198, and to
 * the company, 186), created with `batch/create` and inline associations.
 *
 * Idempotency (the activity key): HubSpot has no upsert for engagements, so the key is STORED in a custom e-mail
 * property (`penguinmails_activity_key`, created on first use with the group of `hs_email_subject`) and SEARCHED
 * before creating: keys already in HubSpot return the existing engagement's id instead of a second one. Limit:
 * HubSpot's search index lags writes by a few seconds, so a redelivery inside that lag can still create a
 * duplicate; the engine stores the returned id, which makes such quick redeliveries rare.
 */
export class HubSpotActivityLogger {
  private readonly keyProperty: string;
  /** Accounts (API base + portal) whose key property is known to exist. */
  private readonly preparedAccounts = new Map<string, Promise<void>>();

  constructor(private readonly config: HubSpotConnectorConfig) {
    this.keyProperty = config.activityKeyProperty ?? HUBSPOT_DEFAULT_ACTIVITY_KEY_PROPERTY;
  }

  async logActivities(
    call: HubSpotCall,
    session: CrmSession,
    activities: ActivityInput[],
  ): Promise<ActivityResult[]> {
    if (activities.length === 0) return [];
    await this.ensureKeyProperty(call, session);
    const results = new Map<string, ActivityResult>();
    const unique = [...new Map(activities.map((activity) => [activity.key, activity])).values()];
    for (const activity of unique) {
      if (activity.contact.object !== 'contacts') {
        results.set(activity.key, {
          key: activity.key,
          ok: false,
          error: {
            code: CrmErrorCode.VALIDATION_FAILED,
            message: `HubSpot email activities attach to contacts, not ${activity.contact.object}`,
          },
        });
      }
    }
    // A message's roll-up engagement, logged before: update it in place.
    const updates = unique.filter((activity) => !results.has(activity.key) && activity.crmId !== undefined);
    for (const [key, result] of await this.updateEmails(call, updates)) results.set(key, result);
    const candidates = unique.filter((activity) => !results.has(activity.key));
    let existing: Map<string, string>;
    try {
      existing = await this.findExisting(
        call,
        candidates.map((activity) => activity.key),
      );
    } catch (error) {
      // The key property may have been deleted in HubSpot since it was checked: check again next time.
      if (CrmError.is(error, CrmErrorCode.VALIDATION_FAILED))
        this.preparedAccounts.delete(this.accountOf(session));
      throw error;
    }
    for (const activity of candidates) {
      const crmId = existing.get(activity.key);
      if (crmId !== undefined) results.set(activity.key, { key: activity.key, ok: true, crmId });
    }
    const toCreate: ActivityEntry[] = candidates
      .filter((activity) => !results.has(activity.key))
      .map((activity) => ({ traceId: activity.key, matchKey: activity.key, activity }));
    for (const chunk of inBatches(toCreate, HUBSPOT_MAX_BATCH)) {
      const outcomes = await runBatchIsolated(
        chunk,
        (entries) =>
          call.run(() =>
            call.objects.batchApi.create(
              'emails',
              {
                inputs: entries.map((entry) => ({
                  properties: this.emailProperties(entry.activity),
                  associations: associationsOf(entry.activity),
                  objectWriteTraceId: entry.traceId,
                })),
              },
              call.options,
            ),
          ),
        (result) => result.properties[this.keyProperty] ?? undefined,
      );
      for (const entry of chunk) {
        const outcome = outcomes.get(entry.traceId);
        results.set(
          entry.activity.key,
          outcome?.ok
            ? { key: entry.activity.key, ok: true, crmId: outcome.object.id }
            : {
                key: entry.activity.key,
                ok: false,
                error:
                  outcome?.ok === false
                    ? outcome.error
                    : { code: CrmErrorCode.UNKNOWN, message: 'No result' },
              },
        );
      }
    }
    return activities.map((activity) => results.get(activity.key) as ActivityResult);
  }

  /** `batch/update` of `emails`, 100 a call; results are matched back by engagement id. */
  private async updateEmails(
    call: HubSpotCall,
    activities: ActivityInput[],
  ): Promise<Map<string, ActivityResult>> {
    const results = new Map<string, ActivityResult>();
    const entries: ActivityEntry[] = activities.map((activity) => ({
      traceId: activity.key,
      matchKey: activity.crmId,
      activity,
    }));
    for (const chunk of inBatches(entries, HUBSPOT_MAX_BATCH)) {
      const outcomes = await runBatchIsolated(
        chunk,
        (batch) =>
          call.run(() =>
            call.objects.batchApi.update(
              'emails',
              {
                inputs: batch.map((entry) => ({
                  id: entry.activity.crmId as string,
                  properties: this.emailProperties(entry.activity),
                  objectWriteTraceId: entry.traceId,
                })),
              },
              call.options,
            ),
          ),
        (result) => result.id,
      );
      for (const entry of chunk) {
        const outcome = outcomes.get(entry.traceId);
        results.set(
          entry.activity.key,
          outcome?.ok
            ? { key: entry.activity.key, ok: true, crmId: entry.activity.crmId as string }
            : {
                key: entry.activity.key,
                ok: false,
                error:
                  outcome?.ok === false
                    ? outcome.error
                    : { code: CrmErrorCode.UNKNOWN, message: 'No result' },
              },
        );
      }
    }
    return results;
  }

  private emailProperties(activity: ActivityInput): Record<string, string> {
    const shape = KIND_TO_EMAIL[activity.kind];
    const subject = activity.subject ?? '';
    const properties: Record<string, string> = {
      hs_timestamp: new Date(activity.occurredAt).toISOString(),
      hs_email_direction: shape.direction,
      hs_email_status: shape.status,
      hs_email_subject: shape.label ? `${shape.label}: ${subject}`.trim() : subject,
      [this.keyProperty]: activity.key,
    };
    if (activity.bodyText !== undefined) properties.hs_email_text = activity.bodyText;
    if (activity.from !== undefined || activity.to?.length) {
      properties.hs_email_headers = JSON.stringify({
        ...(activity.from !== undefined ? { from: { email: activity.from } } : {}),
        to: (activity.to ?? []).map((email) => ({ email })),
      });
    }
    return properties;
  }

  /** Keys already logged, with their engagement ids. */
  private async findExisting(call: HubSpotCall, keys: string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (const chunk of inBatches(keys, HUBSPOT_MAX_BATCH)) {
      // One page holds every match but for duplicates from the search lag; the kit follows any further page.
      const matches = await collectPages<SdkObject>(call.facts.pagination, (after) =>
        call.run(() =>
          call.objects.searchApi.doSearch(
            'emails',
            {
              filterGroups: [
                {
                  filters: [
                    { propertyName: this.keyProperty, operator: FilterOperatorEnum.In, values: chunk },
                  ],
                },
              ],
              properties: [this.keyProperty],
              limit: HUBSPOT_MAX_SEARCH_PAGE,
              ...(after === undefined ? {} : { after }),
            },
            call.options,
          ),
        ),
      );
      for (const result of matches) {
        const key = result.properties[this.keyProperty];
        // Two engagements with one key can only come from the search lag above; the oldest id wins.
        if (key && !found.has(key)) found.set(key, result.id);
      }
    }
    return found;
  }

  private ensureKeyProperty(call: HubSpotCall, session: CrmSession): Promise<void> {
    const account = this.accountOf(session);
    let prepared = this.preparedAccounts.get(account);
    if (!prepared) {
      prepared = this.createKeyPropertyIfMissing(call);
      this.preparedAccounts.set(account, prepared);
      prepared.catch(() => this.preparedAccounts.delete(account));
    }
    return prepared;
  }

  private accountOf(session: CrmSession): string {
    return `${this.config.apiBaseUrl ?? ''}|${session.accountId ?? session.connectionId}`;
  }

  private async createKeyPropertyIfMissing(call: HubSpotCall): Promise<void> {
    try {
      await call.run(() =>
        call.properties.getByName('emails', this.keyProperty, undefined, undefined, call.options),
      );
      return;
    } catch (error) {
      if (!CrmError.is(error, CrmErrorCode.NOT_FOUND)) throw error;
    }
    const subject = await call.run(() =>
      call.properties.getByName('emails', 'hs_email_subject', undefined, undefined, call.options),
    );
    try {
      await call.run(() =>
        call.properties.create(
          'emails',
          {
            name: this.keyProperty,
            label: 'PenguinMails activity key',
            description: 'Set by PenguinMails so a redelivered activity is not logged twice.',
            type: PropertyCreateTypeEnum.String,
            fieldType: PropertyCreateFieldTypeEnum.Text,
            groupName: subject.groupName,
            formField: false,
            hidden: false,
          },
          call.options,
        ),
      );
    } catch (error) {
      // Another worker created it first.
      if (!CrmError.is(error, CrmErrorCode.DUPLICATE)) throw error;
    }
  }
}

function associationsOf(activity: ActivityInput) {
  const types = (typeId: number) => [
    { associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined, associationTypeId: typeId },
  ];
  return [
    { to: { id: activity.contact.crmId }, types: types(EMAIL_TO_CONTACT) },
    ...(activity.companyCrmId ? [{ to: { id: activity.companyCrmId }, types: types(EMAIL_TO_COMPANY) }] : []),
  ];
}
