export * from './change-hints';
export * from './change-hint-queue';
export * from './queued-change-hint-sink';
export * from './targeted-sync.executor';
export * from './change-hint.worker';
export * from './realtime-channel.service';
export * from './change-webhook-receiver.service';
export * from './realtime-status.service';
export * from './realtime.tokens';

import type { Provider } from '@nestjs/common';
import { CHANGE_HINT_SINK } from './change-hints';
import { ChangeHintQueue } from './change-hint-queue';
import { ChangeWebhookReceiver } from './change-webhook-receiver.service';
import { ChangeWebhooksController } from './change-webhooks.controller';
import { QueuedChangeHintSink } from './queued-change-hint-sink';
import { RealtimeChannelService } from './realtime-channel.service';
import { RealtimeController } from './realtime.controller';
import { RealtimeStatusService } from './realtime-status.service';
import { TargetedSyncExecutor } from './targeted-sync.executor';

/** Providers the feature module registers for real-time sync. */
export const REALTIME_PROVIDERS: Provider[] = [
  ChangeHintQueue,
  QueuedChangeHintSink,
  { provide: CHANGE_HINT_SINK, useExisting: QueuedChangeHintSink },
  TargetedSyncExecutor,
  RealtimeChannelService,
  ChangeWebhookReceiver,
  RealtimeStatusService,
];

export const REALTIME_CONTROLLERS = [ChangeWebhooksController, RealtimeController];

/** What the feature module exports (the sink for every change channel; the queue and executor for workers). */
export const REALTIME_EXPORTS = [
  CHANGE_HINT_SINK,
  ChangeHintQueue,
  TargetedSyncExecutor,
  RealtimeChannelService,
];
