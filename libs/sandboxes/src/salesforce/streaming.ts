// The Streaming API's CometD endpoint, `/cometd/{version}` ("Streaming API Developer Guide": Clients and Timeouts,
// Message Durability, Streaming API Error Codes, Handling Errors). Bayeux 1.0 over long-polling only: handshake
// (with the `replay` extension advertised), connect (held until an event is deliverable or 110 s of sandbox clock
// pass), subscribe (with `ext.replay` {channel: -1 | -2 | replayId}), unsubscribe and disconnect. Channels are
// Change Data Capture's: `/data/ChangeEvents` (every entity) and `/data/{Entity}ChangeEvent`.

import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import type { SandboxClock } from '../kit/clock';
import type { OAuthServer } from '../kit/oauth-server';
import { ChangeEventBus, type ChangeEvent } from './change-events';

/** How long the server holds a /meta/connect with nothing to deliver (Salesforce: 110 seconds). */
export const CONNECT_HOLD_MS = 110_000;
/** Streaming API versions served (durable replay needs 37.0). */
const MIN_STREAMING_VERSION = 37;
/** How often a held connect re-checks the sandbox clock (for delayed events and the hold timeout). */
const HOLD_CHECK_MS = 20;
const ALL_CHANGES_CHANNEL = '/data/ChangeEvents';

type BayeuxMessage = Record<string, unknown> & { channel?: string; id?: string; clientId?: string };

interface ChannelSubscription {
  /** Replay id of the last event considered for this subscriber. */
  cursor: number;
  /** Events up to this id are replays (always delivered); later ones are live (subject to delivery faults). */
  liveFrom: number;
}

interface StreamingClient {
  id: string;
  subscriptions: Map<string, ChannelSubscription>;
  connected: boolean;
  /** Wakes the held /meta/connect, if any. */
  release?: () => void;
}

const RETRY_ADVICE = { interval: 0, timeout: CONNECT_HOLD_MS, reconnect: 'retry' };

function oauthToken(req: Request): string | undefined {
  const match = /^(?:OAuth|Bearer)\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return match ? match[1].trim() : undefined;
}

export class StreamingEndpoint {
  private readonly clients = new Map<string, StreamingClient>();

  constructor(
    private readonly bus: ChangeEventBus,
    private readonly oauth: OAuthServer,
    private readonly clock: SandboxClock,
    /** Whether the org has this entity (a channel for an unknown one does not exist). */
    private readonly hasEntity: (entityName: string) => boolean,
  ) {}

  get clientCount(): number {
    return this.clients.size;
  }

  /** Forgets every Bayeux session: the next request of each client gets `403::Unknown client` (re-handshake). */
  forgetClients(): number {
    const count = this.clients.size;
    for (const client of this.clients.values()) client.release?.();
    this.clients.clear();
    return count;
  }

  /** POST /cometd/{version}: one Bayeux message or a batch. */
  handle(req: Request, res: Response): void {
    const version = Number(/^(\d+)\.0$/.exec(String(req.params.version ?? ''))?.[1]);
    if (!Number.isFinite(version) || version < MIN_STREAMING_VERSION) {
      res.status(400).json([
        {
          successful: false,
          error: `400::Unsupported API version. Only API versions '${MIN_STREAMING_VERSION}.0' and later are supported. URI format: '/cometd/66.0'`,
        },
      ]);
      return;
    }
    const body: unknown = req.body;
    const messages = (Array.isArray(body) ? body : [body]).filter(
      (message): message is BayeuxMessage => typeof message === 'object' && message !== null,
    );
    const token = oauthToken(req);
    const sessionValid = this.sessionValid(token);
    const replies: BayeuxMessage[] = [];
    let held: { client: StreamingClient; message: BayeuxMessage } | undefined;
    for (const message of messages) {
      const reply = this.dispatch(message, sessionValid);
      if (reply === 'hold') held = { client: this.clients.get(String(message.clientId))!, message };
      else replies.push(reply);
    }
    if (!held) return void res.json(replies);
    this.hold(held.client, held.message, replies, res, token);
  }

  private sessionValid(token: string | undefined): boolean {
    const authenticated = this.oauth.authenticate(token);
    return authenticated !== 'invalid' && authenticated !== 'expired';
  }

  private dispatch(message: BayeuxMessage, sessionValid: boolean): BayeuxMessage | 'hold' {
    const base = { channel: message.channel, id: message.id };
    if (message.channel === '/meta/handshake') {
      if (!sessionValid) {
        return {
          ...base,
          successful: false,
          error: '403::Handshake denied',
          advice: { reconnect: 'none' },
          ext: {
            sfdc: { failureReason: '401::Authentication invalid' },
            replay: true,
            'payload.format': true,
          },
        };
      }
      const client: StreamingClient = {
        id: randomBytes(14).toString('base64url').toLowerCase(),
        subscriptions: new Map(),
        connected: false,
      };
      this.clients.set(client.id, client);
      return {
        ...base,
        ext: { replay: true, 'payload.format': true },
        minimumVersion: '1.0',
        clientId: client.id,
        supportedConnectionTypes: ['long-polling'],
        advice: RETRY_ADVICE,
        version: '1.0',
        successful: true,
      };
    }
    const client = this.clients.get(String(message.clientId ?? ''));
    if (!client) {
      return {
        ...base,
        successful: false,
        error: '403::Unknown client',
        advice: { reconnect: 'handshake', interval: 0 },
      };
    }
    if (!sessionValid) {
      // "Handling Errors": the session is checked while connected; the client must re-authenticate.
      this.clients.delete(client.id);
      client.release?.();
      return {
        ...base,
        clientId: client.id,
        successful: false,
        error: '401::Authentication invalid',
        advice: { reconnect: 'none', interval: 0 },
      };
    }
    switch (message.channel) {
      case '/meta/connect': {
        if (message.connectionType !== 'long-polling') {
          return {
            ...base,
            clientId: client.id,
            successful: false,
            error: `400::Invalid connection type ${String(message.connectionType)}`,
          };
        }
        if (!client.connected) {
          client.connected = true;
          return { ...base, clientId: client.id, advice: RETRY_ADVICE, successful: true };
        }
        return 'hold';
      }
      case '/meta/subscribe':
        return { ...base, clientId: client.id, ...this.subscribe(client, message) };
      case '/meta/unsubscribe':
        client.subscriptions.delete(String(message.subscription));
        return { ...base, clientId: client.id, subscription: message.subscription, successful: true };
      case '/meta/disconnect':
        this.clients.delete(client.id);
        client.release?.();
        return { ...base, clientId: client.id, successful: true };
      default:
        return {
          ...base,
          clientId: client.id,
          successful: false,
          error: `403::Publish is not supported on ${String(message.channel)}`,
        };
    }
  }

  private subscribe(client: StreamingClient, message: BayeuxMessage): Record<string, unknown> {
    const channel = typeof message.subscription === 'string' ? message.subscription : '';
    const fail = (error: string) => ({ subscription: message.subscription, successful: false, error });
    if (!channel) return fail('400::Channel name not specified');
    if (!channel.startsWith('/')) return fail("400::Channel subscriptions must start with a leading '/'");
    if (!this.channelExists(channel))
      return fail(`400::The channel you requested to subscribe to does not exist {${channel}}`);
    const replayMap = (message.ext as { replay?: Record<string, unknown> } | undefined)?.replay;
    const requested = replayMap?.[channel] ?? -1;
    const replayId = typeof requested === 'string' ? Number(requested) : requested;
    const latest = this.bus.latestReplayId;
    const invalid = fail(
      `400::The replayId {${String(requested)}} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.`,
    );
    if (typeof replayId !== 'number' || !Number.isInteger(replayId)) return invalid;
    let cursor: number;
    if (replayId === -1) cursor = latest;
    else if (replayId === -2) cursor = 0;
    else if (this.bus.isValidReplayId(replayId)) cursor = replayId;
    else return invalid;
    client.subscriptions.set(channel, { cursor, liveFrom: latest });
    return { subscription: channel, successful: true };
  }

  private channelExists(channel: string): boolean {
    if (channel === ALL_CHANGES_CHANNEL) return true;
    const entity = /^\/data\/(\w+)ChangeEvent$/.exec(channel)?.[1];
    return entity !== undefined && this.hasEntity(entity);
  }

  private static matches(channel: string, event: ChangeEvent): boolean {
    return channel === ALL_CHANGES_CHANNEL || channel === `/data/${event.entityName}ChangeEvent`;
  }

  /** Messages now deliverable to the client, in replay order per channel; advances the cursors. */
  private take(client: StreamingClient): BayeuxMessage[] {
    const now = this.clock.nowMs();
    const out: BayeuxMessage[] = [];
    const events = this.bus.retained();
    for (const [channel, subscription] of client.subscriptions) {
      for (let index = this.bus.indexAfter(subscription.cursor); index < events.length; index++) {
        const event = events[index];
        if (!StreamingEndpoint.matches(channel, event)) continue;
        const live = event.replayId > subscription.liveFrom;
        // Delivery is in order: a delayed event holds back the ones after it.
        if (live && event.deliverAtMs > now) break;
        subscription.cursor = event.replayId;
        if (live && event.lostLive) continue;
        const message = ChangeEventBus.message(event, channel);
        out.push(message);
        if (live && event.duplicated) out.push(ChangeEventBus.message(event, channel));
      }
    }
    return out;
  }

  /** Holds the long-poll until something is deliverable, the hold time passes, or the client goes away. */
  private hold(
    client: StreamingClient,
    connect: BayeuxMessage,
    replies: BayeuxMessage[],
    res: Response,
    token: string | undefined,
  ): void {
    client.release?.();
    let connectReply: BayeuxMessage = {
      channel: '/meta/connect',
      id: connect.id,
      clientId: client.id,
      successful: true,
    };
    const heldSinceMs = this.clock.nowMs();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearInterval(timer);
      unsubscribe();
      if (client.release === release) client.release = undefined;
      if (!res.writableEnded && !res.destroyed) res.json([...this.take(client), ...replies, connectReply]);
    };
    const check = () => {
      if (done) return;
      // "Handling Errors": Streaming API re-validates the session while the client is connected.
      if (!this.sessionValid(token)) {
        this.clients.delete(client.id);
        connectReply = {
          ...connectReply,
          successful: false,
          error: '401::Authentication invalid',
          advice: { reconnect: 'none', interval: 0 },
        };
        client.subscriptions.clear();
        return finish();
      }
      const gone = this.clients.get(client.id) !== client;
      if (gone || this.clock.nowMs() - heldSinceMs >= CONNECT_HOLD_MS || this.pendingFor(client)) finish();
    };
    const timer = setInterval(check, HOLD_CHECK_MS);
    timer.unref();
    const unsubscribe = this.bus.onPublish(check);
    const release = () => finish();
    client.release = release;
    res.on('close', () => {
      done = true;
      clearInterval(timer);
      unsubscribe();
    });
    check();
  }

  /** Whether `take` would return something (without advancing cursors). */
  private pendingFor(client: StreamingClient): boolean {
    const now = this.clock.nowMs();
    const events = this.bus.retained();
    for (const [channel, subscription] of client.subscriptions) {
      for (let index = this.bus.indexAfter(subscription.cursor); index < events.length; index++) {
        const event = events[index];
        if (!StreamingEndpoint.matches(channel, event)) continue;
        const live = event.replayId > subscription.liveFrom;
        if (live && event.deliverAtMs > now) break;
        if (!(live && event.lostLive)) return true;
        // A lost event is skipped silently; keep looking past it.
      }
    }
    return false;
  }
}
