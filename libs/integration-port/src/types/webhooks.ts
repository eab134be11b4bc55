/** Change notifications: webhooks a CRM calls and change streams a connector follows. */

export interface WebhookRequest {
  method: string;
  /** Full URL the CRM called, as it signed it. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
  receivedAt: Date;
}

export interface WebhookSecrets {
  /** HMAC secret (HubSpot client secret) or basic-auth password (Pipedrive). */
  secret: string;
  username?: string;
}

/** Webhooks to create at the CRM for one connection, calling back `url` with HTTP Basic `username`/`password`. */
export interface RegisterWebhooksRequest {
  url: string;
  username: string;
  password: string;
  /** The CRM objects to hear about (`persons`, `organizations`). */
  objects: string[];
}

export interface RegisteredWebhooks {
  /** The CRM's ids of the webhooks created, for `removeWebhooks`; empty where the CRM has none per connection. */
  ids: string[];
}

export interface WebhookEvent {
  /** The CRM account the event belongs to (portalId, company_id). */
  accountId: string;
  object: string;
  recordId: string;
  action: 'created' | 'updated' | 'deleted' | 'merged' | 'other';
  occurredAt: string;
  changedFields?: string[];
  eventId?: string;
}

/** One change a CRM's change stream reported (Salesforce Change Data Capture over the Streaming API). */
export interface StreamedChange {
  /** The stream channel it came on; positions are kept per channel. */
  channel: string;
  /** The CRM's own object name. */
  object: string;
  /** May be empty for a gap that names no record (the whole object must be read again). */
  recordIds: string[];
  action: WebhookEvent['action'];
  /** The CRM could not describe the change (a CDC GAP_* event): read the current state instead. */
  gap: boolean;
  changedFields: string[];
  /** When the CRM committed the change (ISO 8601). */
  occurredAt: string;
  /** The stream position of this change (a replay id), to resume after it. */
  position: string;
}

/** Why a change stream stopped delivering; the subscriber decides what to do (refresh, resume, fall back). */
export interface ChangeStreamFailure {
  /** auth: the session died (refresh and subscribe again); invalid_position: the stored position is unknown or
   * expired (a gap); handler: `onChange` threw; stream: any other subscribe or transport failure. */
  kind: 'auth' | 'invalid_position' | 'handler' | 'stream';
  channel?: string;
  message: string;
}

export interface SubscribeChangesRequest {
  /** The CRM's object names to follow. */
  objects: string[];
  /**
   * Where each channel resumes: a `position` from an earlier change (delivered again from the one after it),
   * 'all' for every retained change, or absent for new changes only.
   */
  from: Readonly<Record<string, string>>;
  /** Where a channel without an entry in `from` starts: 'new' (default) or 'all' retained changes. */
  defaultFrom?: 'new' | 'all';
  /** Called once per change, one at a time per channel, in stream order; the next waits for this to settle. */
  onChange(change: StreamedChange): Promise<void>;
  onFailure(failure: ChangeStreamFailure): void;
}

export interface ChangeSubscription {
  readonly channels: string[];
  /** Settles when every channel's subscription is acknowledged (rejects when one is refused). */
  readonly ready: Promise<void>;
  /** Disconnects and waits until the change being handled, if any, is done. */
  stop(): Promise<void>;
}
