import type {
  ChangeStreamFailure,
  ChangeSubscription,
  CrmSession,
  StreamedChange,
  SubscribeChangesRequest,
  WebhookEvent,
} from '@pm/integration-port';
import { StreamingExtension } from 'jsforce/lib/api/streaming';
import type { ResolvedSalesforceConfig } from './config';
import { SessionConnection } from './session-connection';

/** Change Data Capture's per-object channel ("Subscription Channels": standard objects). */
export function changeEventChannel(object: string): string {
  return object.endsWith('__c') ? `/data/${object.slice(0, -3)}__ChangeEvent` : `/data/${object}ChangeEvent`;
}

/** What a change event carries that we read ("Change Event Header Fields"). */
interface ChangeEventMessage {
  payload?: {
    ChangeEventHeader?: {
      entityName?: string;
      changeType?: string;
      recordIds?: string[];
      changedFields?: string[];
      commitTimestamp?: number;
    };
  };
  event?: { replayId?: number };
}

const ACTIONS: Record<string, WebhookEvent['action']> = {
  CREATE: 'created',
  UPDATE: 'updated',
  DELETE: 'deleted',
  // The record is back: for the sync it is a record to read again, as a new one would be.
  UNDELETE: 'created',
};

export function toStreamedChange(channel: string, message: ChangeEventMessage): StreamedChange | undefined {
  const header = message.payload?.ChangeEventHeader;
  const replayId = message.event?.replayId;
  if (!header?.entityName || !header.changeType || replayId === undefined) return undefined;
  const gap = header.changeType.startsWith('GAP_');
  return {
    channel,
    object: header.entityName,
    recordIds: header.recordIds ?? [],
    action: gap ? 'other' : (ACTIONS[header.changeType] ?? 'other'),
    gap,
    changedFields: header.changedFields ?? [],
    occurredAt: new Date(header.commitTimestamp ?? Date.now()).toISOString(),
    position: String(replayId),
  };
}

/** jsforce's Replay extension takes a number: -1 new, -2 all retained, or a replay id. */
function replayFrom(from: string | undefined): number {
  if (from === undefined || from === 'new') return -1;
  if (from === 'all') return -2;
  const id = Number(from);
  return Number.isInteger(id) ? id : -1;
}

type FayeClient = ReturnType<SessionConnection['conn']['streaming']['createClient']>;

/**
 * Follows Change Data Capture over the Streaming API: one jsforce (faye) client per object channel, each with
 * jsforce's own Replay extension (one channel per extension: it writes its single channel into every subscribe
 * message) and AuthFailure extension. Changes are handed over one at a time per channel, in replay order, so the
 * caller can store the position after each one it has accepted.
 */
export async function subscribeChanges(
  session: CrmSession,
  config: ResolvedSalesforceConfig,
  request: SubscribeChangesRequest,
): Promise<ChangeSubscription> {
  const connection = new SessionConnection(session, config);
  const clients: FayeClient[] = [];
  const queues: Promise<void>[] = [];
  let stopped = false;
  const fail = (failure: ChangeStreamFailure) => {
    if (!stopped) request.onFailure(failure);
  };
  const channels = [...new Set(request.objects)].map(changeEventChannel);
  const subscribed = channels.map((channel, index) => {
    const client = connection.conn.streaming.createClient([
      new StreamingExtension.AuthFailure((message: { error?: string }) =>
        fail({ kind: 'auth', channel, message: message.error ?? 'Salesforce session invalid' }),
      ),
      new StreamingExtension.Replay(channel, replayFrom(request.from[channel] ?? request.defaultFrom)),
    ]);
    clients.push(client);
    queues[index] = Promise.resolve();
    const subscription = client.subscribe(channel, (message: ChangeEventMessage) => {
      const change = toStreamedChange(channel, message);
      if (!change) return;
      queues[index] = queues[index].then(async () => {
        if (stopped) return;
        try {
          await request.onChange(change);
        } catch (error) {
          fail({ kind: 'handler', channel, message: error instanceof Error ? error.message : String(error) });
          // Nothing after an unaccepted change may be accepted: the caller resumes from its stored position.
          stopped = true;
        }
      });
    });
    return new Promise<void>((resolve, reject) => {
      subscription.then(resolve, (error: { message?: string; code?: number }) => {
        const message = error?.message ?? String(error);
        fail({ kind: /replayId/i.test(message) ? 'invalid_position' : 'stream', channel, message });
        reject(new Error(message));
      });
    });
  });
  const ready = Promise.all(subscribed).then(() => undefined);
  // The caller reads failures through onFailure; `ready` is for those who wait on it.
  ready.catch(() => undefined);
  return {
    channels,
    ready,
    async stop() {
      stopped = true;
      // faye's Client has disconnect(); jsforce's typings leave it out.
      for (const client of clients) (client as unknown as { disconnect(): void }).disconnect();
      await Promise.all(queues);
    },
  };
}
