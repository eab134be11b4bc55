import { compareInstants } from '@pm/connector-kit';
import type { ConflictPolicy } from '@pm/domain/model';
import { customFieldName, type StandardContactField } from './field-mapping';

export type SyncSide = 'penguinmails' | 'crm';

/** One field changed on both sides since the last sync, to different values. */
export interface FieldConflict {
  /** The mapping key: a local field (`firstName`, `customFields.x`) or `=<crm field>` for a formula's value. */
  field: string;
  localValue: string | null;
  crmValue: string | null;
  /** Each side's own modification time of the record, ISO-8601 (any zone; compared as UTC instants). */
  localModifiedAt: string;
  crmModifiedAt: string;
}

export interface ConflictResolution extends FieldConflict {
  winner: SyncSide;
  value: string | null;
  rule: ConflictPolicy;
  /** Why the winner won, in words for the log. */
  reason: string;
}

/**
 * Decides a conflict field by field under the connection's policy. `most_recent` compares each side's own
 * modification time as UTC instants; on an exact tie the CRM wins, so the outcome never depends on the order in
 * which records were read or on the machine's time zone.
 */
export class ConflictResolver {
  constructor(readonly policy: ConflictPolicy) {}

  resolve(conflict: FieldConflict): ConflictResolution {
    const decide = (winner: SyncSide, reason: string): ConflictResolution => ({
      ...conflict,
      winner,
      value: winner === 'crm' ? conflict.crmValue : conflict.localValue,
      rule: this.policy,
      reason,
    });
    switch (this.policy) {
      case 'crm_wins':
        return decide('crm', 'the CRM wins conflicts');
      case 'penguinmails_wins':
        return decide('penguinmails', 'PenguinMails wins conflicts');
      case 'most_recent': {
        const order = compareInstants(conflict.localModifiedAt, conflict.crmModifiedAt);
        if (order > 0) return decide('penguinmails', 'PenguinMails changed it more recently');
        if (order < 0) return decide('crm', 'the CRM changed it more recently');
        return decide('crm', 'both changed it at the same instant; ties go to the CRM');
      }
    }
  }
}

/** The log line for a resolved conflict, in the seed's shape, with both values in its details. */
export function conflictLogLine(resolution: ConflictResolution): {
  message: string;
  details: Record<string, unknown>;
} {
  return {
    message: `Conflict resolved: ${humanFieldName(resolution.field)} field`,
    details: {
      field: resolution.field,
      penguinmailsValue: resolution.localValue,
      crmValue: resolution.crmValue,
      penguinmailsModifiedAt: resolution.localModifiedAt,
      crmModifiedAt: resolution.crmModifiedAt,
      winner: resolution.winner,
      value: resolution.value,
      rule: resolution.rule,
      reason: resolution.reason,
    },
  };
}

const FIELD_WORDS: Readonly<Record<StandardContactField, string>> = {
  email: 'email',
  firstName: 'first name',
  lastName: 'last name',
  company: 'company',
  title: 'title',
  phone: 'phone',
  lifecycleStage: 'lifecycle stage',
  leadStatus: 'lead status',
};

export function humanFieldName(field: string): string {
  const custom = customFieldName(field);
  if (custom !== undefined) return `custom field ${custom}`;
  if (field.startsWith('=')) return `computed ${field.slice(1)}`;
  return Object.hasOwn(FIELD_WORDS, field) ? FIELD_WORDS[field as StandardContactField] : field;
}
