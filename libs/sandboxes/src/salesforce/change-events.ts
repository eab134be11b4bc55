// Change Data Capture's event bus ("Change Data Capture Developer Guide": Change Event Message Structure, Change
// Event Header Fields, Subscription Channels; "Streaming API Developer Guide": Message Durability). Every committed
// record change becomes one retained event with an org-wide increasing replay id; streaming.ts serves them over
// CometD. Faults (delay, loss, duplication) act on live delivery only: a replay still finds a "lost" event, as on
// Salesforce, where a dropped connection loses nothing that is still retained.

import { randomUUID } from 'node:crypto';
import type { SandboxClock } from '../kit/clock';
import type { SeededRandom } from '../kit/random';
import type { RecordChange } from './org';

/** Change events are retained for three days (high-volume platform events and CDC). */
export const CHANGE_EVENT_RETENTION_MS = 72 * 3_600_000;
/**
 * The sandbox keeps at most this many events (a benchmark stages far more records than any test replays); older
 * ones count as expired, so their replay ids are refused like ids from before the retention window.
 */
export const MAX_RETAINED_CHANGE_EVENTS = 20_000;

export type ChangeType =
  | RecordChange['changeType']
  | 'GAP_CREATE'
  | 'GAP_UPDATE'
  | 'GAP_DELETE'
  | 'GAP_UNDELETE'
  | 'GAP_OVERFLOW';

export interface ChangeEvent {
  replayId: number;
  entityName: string;
  changeType: ChangeType;
  recordIds: string[];
  changedFields: string[];
  commitMs: number;
  /** The record's fields after the change, sent beside the header (nulls and unchanged fields left out). */
  fields: Record<string, unknown>;
  transactionKey: string;
  sequenceNumber: number;
  /** Live delivery faults decided when the event is published. */
  lostLive: boolean;
  duplicated: boolean;
  deliverAtMs: number;
}

/** What `POST /__sandbox/streaming` sets: how live delivery misbehaves. */
export interface ChangeEventFaults {
  /** Live deliveries wait this long after the commit (sandbox clock). */
  delayMs?: number;
  /** The next n events are not delivered live (a replay from an earlier id still returns them). */
  dropNext?: number;
  /** The next n events delivered live are delivered twice. */
  duplicateNext?: number;
  /** Share (0–1) of events lost / duplicated at random (seeded). */
  lossRate?: number;
  duplicationRate?: number;
}

export class ChangeEventBus {
  private readonly events: ChangeEvent[] = [];
  private nextReplayId = 1;
  private faults: Required<ChangeEventFaults> = {
    delayMs: 0,
    dropNext: 0,
    duplicateNext: 0,
    lossRate: 0,
    duplicationRate: 0,
  };
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly clock: SandboxClock,
    private readonly random: SeededRandom,
  ) {}

  configure(faults: ChangeEventFaults): Required<ChangeEventFaults> {
    this.faults = { ...this.faults, ...faults };
    return { ...this.faults };
  }

  reset(): void {
    this.events.length = 0;
    this.faults = { delayMs: 0, dropNext: 0, duplicateNext: 0, lossRate: 0, duplicationRate: 0 };
  }

  /** Called on every publish (the held long-polls re-check what they can deliver). */
  onPublish(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One committed change → one event (a transaction of one record: sequence number 1). */
  publishChange(change: RecordChange): ChangeEvent {
    const fields: Record<string, unknown> = {};
    for (const name of change.changedFields) {
      if (name === 'Id' || name === 'IsDeleted' || name === 'SystemModstamp') continue;
      fields[name] = change.fields[name] ?? null;
    }
    return this.publish(
      change.entityName,
      change.changeType,
      [change.recordId],
      change.changedFields,
      fields,
    );
  }

  /** A gap event: Salesforce could not produce the change's details (the subscriber must read current state). */
  publishGap(entityName: string, recordIds: string[], changeType: ChangeType = 'GAP_UPDATE'): ChangeEvent {
    return this.publish(entityName, changeType, recordIds, [], {});
  }

  private publish(
    entityName: string,
    changeType: ChangeType,
    recordIds: string[],
    changedFields: string[],
    fields: Record<string, unknown>,
  ): ChangeEvent {
    const now = this.clock.nowMs();
    const lost =
      this.faults.dropNext > 0 || (this.faults.lossRate > 0 && this.random.bool(this.faults.lossRate));
    if (this.faults.dropNext > 0) this.faults.dropNext--;
    // A lost event is not delivered at all: it does not use up a duplication.
    const duplicated =
      !lost &&
      (this.faults.duplicateNext > 0 ||
        (this.faults.duplicationRate > 0 && this.random.bool(this.faults.duplicationRate)));
    if (duplicated && this.faults.duplicateNext > 0) this.faults.duplicateNext--;
    const event: ChangeEvent = {
      // Replay ids are opaque and not contiguous: leave room, as Salesforce does.
      replayId: this.nextReplayId,
      entityName,
      changeType,
      recordIds,
      changedFields: changedFields.filter((name) => name !== 'SystemModstamp'),
      commitMs: now,
      fields,
      transactionKey: randomUUID(),
      sequenceNumber: 1,
      lostLive: lost,
      duplicated,
      deliverAtMs: now + this.faults.delayMs,
    };
    this.nextReplayId += 1 + (this.nextReplayId % 3);
    this.events.push(event);
    if (this.events.length > MAX_RETAINED_CHANGE_EVENTS) this.events.shift();
    for (const listener of [...this.listeners]) listener();
    return event;
  }

  /** Events still retained, oldest first (the window is measured on the sandbox clock). */
  retained(): ChangeEvent[] {
    const horizon = this.clock.nowMs() - CHANGE_EVENT_RETENTION_MS;
    while (this.events.length > 0 && this.events[0].commitMs < horizon) this.events.shift();
    return this.events;
  }

  /** Index in `retained()` of the first event after `replayId` (ids increase along the list). */
  indexAfter(replayId: number): number {
    const events = this.retained();
    let low = 0;
    let high = events.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (events[middle].replayId <= replayId) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** The newest replay id handed out (0 before any event). */
  get latestReplayId(): number {
    const events = this.retained();
    return events.length > 0 ? events[events.length - 1].replayId : this.nextReplayId - 1;
  }

  /**
   * Whether a subscriber may resume after `replayId`: it must name a retained event. An id from before the window
   * (expired) or never issued is invalid ("Message Durability").
   */
  isValidReplayId(replayId: number): boolean {
    return this.retained().some((event) => event.replayId === replayId);
  }

  /** The event as CometD sends it on a channel (Change Event Message Structure). */
  static message(event: ChangeEvent, channel: string): Record<string, unknown> {
    return {
      data: {
        schema: `sandbox-${event.entityName}-schema`,
        payload: {
          ChangeEventHeader: {
            entityName: event.entityName,
            recordIds: event.recordIds,
            changeType: event.changeType,
            changeOrigin: 'com/salesforce/api/rest/66.0;client=sandbox',
            transactionKey: event.transactionKey,
            sequenceNumber: event.sequenceNumber,
            commitTimestamp: event.commitMs,
            commitNumber: event.replayId * 1000,
            commitUser: '005000000000001AAA',
            changedFields: event.changedFields,
            diffFields: [],
            nulledFields: [],
          },
          ...event.fields,
        },
        event: { replayId: event.replayId },
      },
      channel,
    };
  }
}
