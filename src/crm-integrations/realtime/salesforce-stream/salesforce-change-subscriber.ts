import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  IntegrationPortRegistry,
  type ChangeStreamFailure,
  type ChangeSubscription,
  type StreamedChange,
} from '@pm/integration-port';
import { ChangeStreamLeaseRepository } from '../../repositories/change-stream-lease.repository';
import { ChangeStreamPositionRepository } from '../../repositories/change-stream-position.repository';
import { ReconcileService } from '../../reconcile/reconcile.service';
import { TokenVault } from '../../vault/token-vault';
import { CHANGE_HINT_SINK, type ChangeHint, type ChangeHintSink } from '../change-hints';

export interface SalesforceStreamOptions {
  /** How often the set of streams is matched to the connections (ms); 0: only when `refresh()` is called. */
  refreshIntervalMs?: number;
  /** Wait before subscribing again after a stream or hint failure (ms), so a failing sink is not hammered. */
  restartDelayMs?: number;
  /**
   * How long this process's hold on a stream lasts without a refresh renewing it (ms); default three refresh
   * intervals, at least 90 s. Another worker takes a stream over only after its holder let the lease run out.
   */
  leaseMs?: number;
}

export const SALESFORCE_STREAM_OPTIONS = Symbol('SALESFORCE_STREAM_OPTIONS');

const PROVIDER = 'salesforce';

/** One connection's running stream. A failure of a replaced subscription is ignored (`current` moved on). */
interface Stream {
  connectionId: string;
  tenantId: string;
  objects: string[];
  current?: ChangeSubscription;
  accessToken?: string;
  /** Start/stop/restart of this connection, one at a time. */
  chain: Promise<void>;
  stopped: boolean;
  timer?: NodeJS.Timeout;
  /** Subscribed before: a channel with no stored position must not restart at 'new' (its first changes may
   * have been refused by the sink, or missed while the stream was down), so it restarts at 'all'. */
  subscribedBefore?: boolean;
  /** Woken when a failure replaces the current subscription (for `ready()`). */
  replaced: Array<() => void>;
}

/** A change event becomes a hint; a gap names the object (and its records, if any): the sync reads current state. */
export function toChangeHint(connectionId: string, change: StreamedChange): ChangeHint {
  return {
    connectionId,
    object: change.object,
    crmIds: change.recordIds,
    action: change.gap ? 'other' : change.action,
    occurredAt: new Date(change.occurredAt),
    eventId: change.position,
  };
}

/**
 * Follows Salesforce Change Data Capture for every connected Salesforce connection with real-time on, and hands
 * each change to the ChangeHintSink. The replay id is stored per connection and channel only after the sink
 * accepted the hint, so a restart (or a crash) resumes from the last accepted event: repeated hints, never a gap.
 * The connector owns the jsforce streaming client; sessions come from the token vault, which refreshes under its
 * lock when the stream reports an auth failure, and the stream is subscribed again (a new handshake).
 */
@Injectable()
export class SalesforceChangeSubscriber implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SalesforceChangeSubscriber.name);
  private readonly streams = new Map<string, Stream>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  /** This process, as the holder of stream leases. */
  readonly holder = `${hostname()}:${process.pid}:${randomUUID()}`;

  constructor(
    private readonly registry: IntegrationPortRegistry,
    private readonly vault: TokenVault,
    private readonly positions: ChangeStreamPositionRepository,
    private readonly leases: ChangeStreamLeaseRepository,
    @Optional() @Inject(CHANGE_HINT_SINK) private readonly sink: ChangeHintSink | undefined,
    @Optional() @Inject(SALESFORCE_STREAM_OPTIONS) private readonly options: SalesforceStreamOptions = {},
    @Optional() private readonly reconcile?: ReconcileService,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.options?.refreshIntervalMs ?? 30_000;
    if (every <= 0) return;
    void this.refresh();
    this.refreshTimer = setInterval(() => void this.refresh(), every);
    this.refreshTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    await this.refreshing;
    await this.stopAll();
    // Another worker may follow these streams at once rather than when the leases run out.
    await this.leases.release(this.holder).catch(() => undefined);
  }

  /** Connection ids with a running stream. */
  running(): string[] {
    return [...this.streams.keys()];
  }

  /**
   * Starts streams for connected real-time Salesforce connections whose lease this process holds or can take, renews
   * those leases, and stops the other streams (disconnect, switch off, or another worker took the stream over).
   */
  refresh(): Promise<void> {
    this.refreshing ??= this.matchConnections()
      .catch((error: unknown) => {
        // The timer calls this: a database hiccup is logged and the next tick tries again.
        this.logger.error(
          `Salesforce change streams: ${error instanceof Error ? error.message : String(error)}`,
        );
      })
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Settles when the connection's stream has every channel subscribed (rejects when one is refused). */
  async ready(connectionId: string): Promise<void> {
    const stream = this.streams.get(connectionId);
    if (!stream) throw new Error(`No change stream for connection ${connectionId}`);
    for (;;) {
      await stream.chain;
      const current = stream.current;
      if (!current) return;
      const outcome = await Promise.race([
        current.ready.then(() => 'ready' as const),
        new Promise<'replaced'>((resolve) => stream.replaced.push(() => resolve('replaced'))),
      ]);
      if (outcome === 'ready' && stream.current === current) return;
    }
  }

  async stop(connectionId: string): Promise<void> {
    const stream = this.streams.get(connectionId);
    if (!stream) return;
    this.streams.delete(connectionId);
    stream.stopped = true;
    if (stream.timer) clearTimeout(stream.timer);
    await this.enqueue(stream, () => this.unsubscribe(stream));
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.running().map((id) => this.stop(id)));
  }

  private async matchConnections(): Promise<void> {
    if (!this.sink || !this.registry.has(PROVIDER)) return;
    if (!this.registry.get(PROVIDER).subscribeChanges) return;
    const candidates = (await this.positions.connectedOf(PROVIDER)).filter(
      (candidate) => candidate.realtime && candidate.objects.length > 0,
    );
    const held = new Set(
      await this.leases.claim(
        candidates.map((candidate) => candidate.id),
        this.holder,
        this.leaseMs(),
      ),
    );
    const wanted = candidates.filter((candidate) => held.has(candidate.id));
    const dropped = this.running().filter((id) => !held.has(id));
    await Promise.all(dropped.map((id) => this.stop(id)));
    const unwanted = dropped.filter((id) => !candidates.some((candidate) => candidate.id === id));
    if (unwanted.length > 0) await this.leases.release(this.holder, unwanted);
    for (const candidate of wanted) {
      const stream = this.streams.get(candidate.id);
      if (stream && sameObjects(stream.objects, candidate.objects)) continue;
      if (stream) await this.stop(candidate.id);
      this.start(candidate.id, candidate.tenantId, candidate.objects);
    }
  }

  private leaseMs(): number {
    return this.options?.leaseMs ?? Math.max(3 * (this.options?.refreshIntervalMs ?? 30_000), 90_000);
  }

  private start(connectionId: string, tenantId: string, objects: string[]): void {
    const stream: Stream = {
      connectionId,
      tenantId,
      objects,
      chain: Promise.resolve(),
      stopped: false,
      replaced: [],
    };
    this.streams.set(connectionId, stream);
    void this.enqueue(stream, async () => {
      try {
        await this.subscribe(stream);
      } catch (error) {
        // Not running after all: the next refresh tries again.
        if (this.streams.get(connectionId) === stream) this.streams.delete(connectionId);
        throw error;
      }
    });
  }

  private enqueue(stream: Stream, work: () => Promise<void>): Promise<void> {
    stream.chain = stream.chain.then(work).catch((error: unknown) => {
      this.logger.error(
        `Salesforce change stream of connection ${stream.connectionId}: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
    return stream.chain;
  }

  private async subscribe(stream: Stream): Promise<void> {
    if (stream.stopped) return;
    const port = this.registry.get(PROVIDER);
    const session = await this.vault.session(stream.connectionId);
    const from = await this.positions.load(stream.connectionId);
    // Failures reach us only after the subscription exists (they come from the network), so the closure is safe.
    const subscription: ChangeSubscription = await port.subscribeChanges!(session, {
      objects: stream.objects,
      from,
      // A first subscription follows new changes only (the scheduled sync covers the past); a later one must not.
      defaultFrom: stream.subscribedBefore ? 'all' : 'new',
      onChange: (change) => this.accept(stream, change),
      onFailure: (failure) => {
        if (stream.current === subscription && !stream.stopped) this.onFailure(stream, failure);
      },
    });
    stream.current = subscription;
    stream.subscribedBefore = true;
    stream.accessToken = session.accessToken;
    this.logger.log(
      `Salesforce change stream of connection ${stream.connectionId} subscribed to ${subscription.channels.join(', ')}`,
    );
  }

  private async unsubscribe(stream: Stream): Promise<void> {
    const current = stream.current;
    stream.current = undefined;
    await current?.stop();
  }

  /** The hint first, the position after: a crash in between repeats the hint (same eventId), never skips it. */
  private async accept(stream: Stream, change: StreamedChange): Promise<void> {
    await this.sink!.accept([toChangeHint(stream.connectionId, change)]);
    await this.positions.save(stream.connectionId, change.channel, change.position);
  }

  private onFailure(stream: Stream, failure: ChangeStreamFailure): void {
    for (const wake of stream.replaced.splice(0)) wake();
    const where = `Salesforce change stream of connection ${stream.connectionId}${failure.channel ? ` (${failure.channel})` : ''}`;
    switch (failure.kind) {
      case 'auth': {
        // The vault refreshes under its lock (or finds another worker's fresh token); then a new handshake.
        this.logger.warn(`${where}: ${failure.message}; refreshing the session and subscribing again`);
        const stale = stream.accessToken ?? '';
        void this.enqueue(stream, async () => {
          await this.unsubscribe(stream);
          await this.vault.refresh(stream.connectionId, stale);
          await this.subscribe(stream);
        });
        return;
      }
      case 'invalid_position': {
        this.logger.warn(
          `${where}: the stored replay id was refused (${failure.message}); resuming with every retained event — events before them may be lost: a reconcile is needed`,
        );
        void this.enqueue(stream, async () => {
          await this.unsubscribe(stream);
          if (failure.channel) await this.positions.markGap(stream.connectionId, failure.channel, new Date());
          // What the stream lost is found by a reconcile (ids and modification times on both sides).
          await this.reconcile?.request({ id: stream.connectionId, tenantId: stream.tenantId });
          await this.subscribe(stream);
        });
        return;
      }
      default: {
        this.logger.warn(`${where}: ${failure.message}; subscribing again from the last accepted event`);
        void this.enqueue(stream, async () => {
          await this.unsubscribe(stream);
          await new Promise<void>((resolve) => {
            stream.timer = setTimeout(resolve, this.options?.restartDelayMs ?? 1_000);
          });
          await this.subscribe(stream);
        });
      }
    }
  }
}

function sameObjects(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');
}
