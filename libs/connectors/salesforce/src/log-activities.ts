import { createHash } from 'node:crypto';
import {
  CrmErrorCode,
  type ActivityInput,
  type ActivityKind,
  type ActivityResult,
} from '@pm/integration-port';
import { inBatches } from '@pm/connector-kit';
import type { SaveResult } from 'jsforce';
import { recordErrorFrom, type CollectionError } from './errors';
import { queryAllRows } from './query';
import type { SessionConnection } from './session-connection';
import { soqlName, soqlString } from './soql';
import { MAX_WRITE_BATCH } from './upsert-batch';

/**
 * E-mail activities as completed Tasks (`TaskSubtype = 'Email'`, `Type = 'Email'`) on the contact or lead (`WhoId`),
 * and on the account (`WhatId`) for contacts. Salesforce has no idempotency key on inserts, so a redelivered activity
 * is recognised by its PenguinMails key before anything is created:
 *
 * - with `activityKeyField` (a unique external-id text field on Task): `SELECT Id, key FROM Task WHERE key IN (…)`
 *   skips the ones already logged, and the unique index turns a racing second insert into DUPLICATE_VALUE, which is
 *   answered with the first copy's id — idempotent even under concurrent deliveries;
 * - without it: the key is written as the Description's last line and looked up among the contacts' e-mail Tasks
 *   dated within the batch's days — idempotent for redeliveries, not for two deliveries racing each other.
 */

const KIND_LABELS: Readonly<Record<ActivityKind, string>> = {
  email_sent: 'Email',
  email_received: 'Email received',
  email_opened: 'Email opened',
  email_clicked: 'Email link clicked',
  email_replied: 'Email reply',
  email_bounced: 'Email bounced',
};

const SUBJECT_MAX = 255;
const DESCRIPTION_MAX = 32_000;
const KEY_FIELD_MAX = 255;
const KEYS_PER_QUERY = 200;
const MARKER_PREFIX = 'PenguinMails activity: ';
/** 15- or 18-character record id; SOQL refuses a query with anything else in an id filter. */
const SALESFORCE_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

/** Why an activity cannot be logged at all, before any call. */
function invalidActivity(activity: ActivityInput): { message: string; field: string } | undefined {
  if (Number.isNaN(Date.parse(activity.occurredAt))) {
    return { message: `occurredAt is not a date: "${activity.occurredAt}"`, field: 'ActivityDate' };
  }
  if (!SALESFORCE_ID.test(activity.contact.crmId)) {
    return { message: `Not a Salesforce record id: "${activity.contact.crmId}"`, field: 'WhoId' };
  }
  if (activity.companyCrmId !== undefined && !SALESFORCE_ID.test(activity.companyCrmId)) {
    return { message: `Not a Salesforce record id: "${activity.companyCrmId}"`, field: 'WhatId' };
  }
  return undefined;
}

/** The key as stored: verbatim when it fits the field, else a digest (keys are message ids + event names). */
export function storedKey(key: string): string {
  return key.length <= KEY_FIELD_MAX ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

function clip(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

function taskFields(activity: ActivityInput, keyField: string | undefined): Record<string, unknown> {
  const label = KIND_LABELS[activity.kind];
  const subject = clip(activity.subject ? `${label}: ${activity.subject}` : label, SUBJECT_MAX);
  const header = [
    activity.from ? `From: ${activity.from}` : undefined,
    activity.to && activity.to.length > 0 ? `To: ${activity.to.join(', ')}` : undefined,
    `At: ${activity.occurredAt}`,
  ].filter((line): line is string => line !== undefined);
  const marker = `${MARKER_PREFIX}${storedKey(activity.key)}`;
  const body = [header.join('\n'), activity.bodyText ?? ''].filter((part) => part !== '').join('\n\n');
  const fields: Record<string, unknown> = {
    WhoId: activity.contact.crmId,
    Subject: subject,
    ActivityDate: new Date(activity.occurredAt).toISOString().slice(0, 10),
    Status: 'Completed',
    Type: 'Email',
    TaskSubtype: 'Email',
    // The marker goes last and is never clipped: the lookup without a key field reads it back.
    Description: `${clip(body, DESCRIPTION_MAX - marker.length - 2)}\n\n${marker}`,
  };
  // A Task on a lead cannot be related to an account (WhatId): only contacts get one.
  if (activity.companyCrmId && activity.contact.object.toLowerCase() === 'contact') {
    fields.WhatId = activity.companyCrmId;
  }
  if (keyField !== undefined) fields[keyField] = storedKey(activity.key);
  return fields;
}

/** Task ids already logged, by stored key. */
async function existingTasks(
  connection: SessionConnection,
  activities: readonly ActivityInput[],
  keyField: string | undefined,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (keyField !== undefined) {
    const keys = [...new Set(activities.map((activity) => storedKey(activity.key)))];
    for (const batch of inBatches(keys, KEYS_PER_QUERY)) {
      const field = soqlName(keyField);
      for (const row of await queryAllRows(
        connection,
        `SELECT Id, ${field} FROM Task WHERE ${field} IN (${batch.map(soqlString).join(', ')})`,
      )) {
        if (typeof row[keyField] === 'string') found.set(row[keyField], String(row.Id));
      }
    }
    return found;
  }

  const whoIds = [...new Set(activities.map((activity) => activity.contact.crmId))];
  const days = activities.map((activity) => new Date(activity.occurredAt).toISOString().slice(0, 10)).sort();
  for (const batch of inBatches(whoIds, KEYS_PER_QUERY)) {
    const soql =
      `SELECT Id, Description FROM Task WHERE WhoId IN (${batch.map(soqlString).join(', ')})` +
      ` AND TaskSubtype = 'Email' AND ActivityDate >= ${days[0]} AND ActivityDate <= ${days[days.length - 1]}`;
    for (const row of await queryAllRows(connection, soql)) {
      const description = typeof row.Description === 'string' ? row.Description : '';
      const markerLine = description.split('\n').at(-1) ?? '';
      if (markerLine.startsWith(MARKER_PREFIX))
        found.set(markerLine.slice(MARKER_PREFIX.length), String(row.Id));
    }
  }
  return found;
}

/**
 * Activities that already are a Task (`crmId`: a message's roll-up record) are updated in place through sObject
 * Collections (`PATCH /composite/sobjects`), 200 a call; the contact, type and key stay as created.
 */
async function updateTasks(
  connection: SessionConnection,
  activities: readonly ActivityInput[],
  indexes: number[],
  keyField: string | undefined,
  results: ActivityResult[],
): Promise<void> {
  for (const chunk of inBatches(indexes, MAX_WRITE_BATCH)) {
    const answers: SaveResult[] = await connection.call((conn) =>
      conn.sobject('Task').update(
        chunk.map((index) => {
          const { Subject, Description, ActivityDate } = taskFields(activities[index], keyField);
          return { Id: activities[index].crmId as string, Subject, Description, ActivityDate };
        }),
        { allOrNone: false },
      ),
    );
    chunk.forEach((index, position) => {
      const answer = answers[position];
      const activity = activities[index];
      results[index] = answer?.success
        ? { key: activity.key, ok: true, crmId: activity.crmId as string }
        : {
            key: activity.key,
            ok: false,
            error: recordErrorFrom(answer ? (answer.errors as unknown as CollectionError[]) : undefined),
          };
    });
  }
}

export async function logActivities(
  connection: SessionConnection,
  all: readonly ActivityInput[],
  keyField: string | undefined,
): Promise<ActivityResult[]> {
  const updates = all.flatMap((activity, index) =>
    activity.crmId !== undefined && SALESFORCE_ID.test(activity.crmId) ? [index] : [],
  );
  if (updates.length === 0) return createActivities(connection, all, keyField);
  const results: ActivityResult[] = new Array<ActivityResult>(all.length);
  await updateTasks(connection, all, updates, keyField, results);
  const updating = new Set(updates);
  const creates = all.flatMap((_activity, index) => (updating.has(index) ? [] : [index]));
  const created = await createActivities(
    connection,
    creates.map((index) => all[index]),
    keyField,
  );
  creates.forEach((index, position) => (results[index] = created[position]));
  return results;
}

async function createActivities(
  connection: SessionConnection,
  activities: readonly ActivityInput[],
  keyField: string | undefined,
): Promise<ActivityResult[]> {
  const results: ActivityResult[] = new Array<ActivityResult>(activities.length);
  if (activities.length === 0) return results;
  const valid = activities.filter((activity) => invalidActivity(activity) === undefined);
  const logged =
    valid.length > 0 ? await existingTasks(connection, valid, keyField) : new Map<string, string>();
  // One create per key: a key repeated inside the batch is answered with the first copy's id.
  const toCreate: { key: string; indexes: number[]; fields: Record<string, unknown> }[] = [];
  const pendingByKey = new Map<string, (typeof toCreate)[number]>();
  activities.forEach((activity, index) => {
    const invalid = invalidActivity(activity);
    if (invalid !== undefined) {
      results[index] = {
        key: activity.key,
        ok: false,
        error: { code: CrmErrorCode.VALIDATION_FAILED, ...invalid },
      };
      return;
    }
    const key = storedKey(activity.key);
    const existing = logged.get(key);
    if (existing !== undefined) {
      results[index] = { key: activity.key, ok: true, crmId: existing };
      return;
    }
    const pending = pendingByKey.get(key);
    if (pending) {
      pending.indexes.push(index);
      return;
    }
    const entry = { key, indexes: [index], fields: taskFields(activity, keyField) };
    pendingByKey.set(key, entry);
    toCreate.push(entry);
  });

  const racedKeys: string[] = [];
  for (const chunk of inBatches(toCreate, MAX_WRITE_BATCH)) {
    const answers: SaveResult[] = await connection.call((conn) =>
      conn.sobject('Task').create(
        chunk.map((entry) => entry.fields),
        { allOrNone: false },
      ),
    );
    chunk.forEach((entry, position) => {
      const answer = answers[position];
      for (const index of entry.indexes) {
        const activityKey = activities[index].key;
        if (answer?.success && answer.id) {
          results[index] = { key: activityKey, ok: true, crmId: answer.id };
        } else {
          const error = recordErrorFrom(answer ? (answer.errors as unknown as CollectionError[]) : undefined);
          if (keyField !== undefined && error.code === CrmErrorCode.DUPLICATE) racedKeys.push(entry.key);
          results[index] = { key: activityKey, ok: false, error };
        }
      }
    });
  }

  // Another delivery of the same activity won the race for the unique key: that copy is ours too.
  if (racedKeys.length > 0) {
    const raced = new Set(racedKeys);
    const winners = await existingTasks(
      connection,
      activities.filter((activity) => raced.has(storedKey(activity.key))),
      keyField,
    );
    activities.forEach((activity, index) => {
      const winner = winners.get(storedKey(activity.key));
      if (winner !== undefined && !results[index].ok)
        results[index] = { key: activity.key, ok: true, crmId: winner };
    });
  }
  return results;
}
