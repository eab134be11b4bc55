import { Connection } from 'jsforce';
import { StreamingExtension } from 'jsforce/lib/api/streaming';
import { SandboxClock } from '../kit/clock';
import { SandboxControlClient } from '../kit/control-client';
import { createSalesforceSandbox, SalesforceSandbox } from './index';

const VERSION = '59.0';
const CONTACTS = '/data/ContactChangeEvent';
const ACCOUNTS = '/data/AccountChangeEvent';

interface ChangeMessage {
  payload: {
    ChangeEventHeader: {
      entityName: string;
      changeType: string;
      recordIds: string[];
      changedFields: string[];
      commitTimestamp: number;
      transactionKey: string;
      sequenceNumber: number;
    };
    [field: string]: unknown;
  };
  event: { replayId: number };
}

/** What a subscription received, with a way to wait for the n-th message (no sleeps). */
class Inbox {
  readonly messages: ChangeMessage[] = [];
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  readonly push = (message: ChangeMessage) => {
    this.messages.push(message);
    this.waiters = this.waiters.filter((waiter) => {
      if (this.messages.length < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  };

  async count(count: number): Promise<ChangeMessage[]> {
    if (this.messages.length < count)
      await new Promise<void>((resolve) => this.waiters.push({ count, resolve }));
    return this.messages.slice(0, count);
  }
}

type FayeClient = ReturnType<Connection['streaming']['createClient']>;

/**
 * The Streaming API (CometD) of the sandbox driven by jsforce's own streaming client (faye underneath) with
 * jsforce's Replay and AuthFailure extensions, as a server-side subscriber uses them.
 */
describe('Salesforce sandbox Change Data Capture over CometD, driven by jsforce streaming', () => {
  let sandbox: SalesforceSandbox;
  let clock: SandboxClock;
  let conn: Connection;
  const clients: FayeClient[] = [];

  function subscriber(
    channel: string,
    replayId: number,
    onAuthFailure: (message: unknown) => void = () => undefined,
    accessToken = conn.accessToken as string,
  ) {
    const connection = new Connection({ instanceUrl: sandbox.instanceUrl, accessToken, version: VERSION });
    const replay = new StreamingExtension.Replay(channel, replayId);
    const client = connection.streaming.createClient([
      new StreamingExtension.AuthFailure(onAuthFailure),
      replay,
    ]);
    clients.push(client);
    const inbox = new Inbox();
    const subscription = client.subscribe(channel, inbox.push as never);
    return { client, inbox, subscription, replay };
  }

  beforeAll(async () => {
    clock = new SandboxClock({ start: '2026-12-01T09:00:00Z', frozen: true });
    sandbox = createSalesforceSandbox({ clock });
    await sandbox.start();
  });

  beforeEach(() => {
    // A fresh session per test: one test moves the clock past the retention window (and every token's expiry).
    const tokens = sandbox.oauth.issueTokensDirectly();
    conn = new Connection({
      instanceUrl: sandbox.instanceUrl,
      accessToken: tokens.accessToken,
      version: VERSION,
    });
  });

  afterEach(() => {
    // faye's Client has disconnect(); jsforce's typings leave it out.
    for (const client of clients.splice(0)) (client as unknown as { disconnect(): void }).disconnect();
    sandbox.changeEvents.configure({ delayMs: 0, dropNext: 0, duplicateNext: 0 });
  });

  afterAll(async () => {
    await sandbox?.stop();
  });

  it('hands a subscriber CREATE, UPDATE and DELETE events shaped as Change Data Capture sends them', async () => {
    const { inbox, subscription } = subscriber(CONTACTS, -1);
    await subscription;
    const created = await conn.sobject('Contact').create({ LastName: 'Lovelace', Email: 'ada@example.com' });
    const id = (created as { id: string }).id;
    clock.advance(1000);
    await conn.sobject('Contact').update({ Id: id, Email: 'ada@lovelace.example' });
    await conn.sobject('Contact').destroy(id);

    const [create, update, remove] = await inbox.count(3);
    expect(create.payload.ChangeEventHeader).toMatchObject({
      entityName: 'Contact',
      changeType: 'CREATE',
      recordIds: [id],
      commitTimestamp: Date.parse('2026-12-01T09:00:00Z'),
      sequenceNumber: 1,
    });
    expect(create.payload.LastName).toBe('Lovelace');
    expect(update.payload.ChangeEventHeader).toMatchObject({ changeType: 'UPDATE', recordIds: [id] });
    expect(update.payload.ChangeEventHeader.changedFields).toEqual(
      expect.arrayContaining(['Email', 'LastModifiedDate']),
    );
    expect(update.payload.ChangeEventHeader.changedFields).not.toContain('LastName');
    expect(update.payload.ChangeEventHeader.commitTimestamp).toBe(Date.parse('2026-12-01T09:00:01Z'));
    expect(remove.payload.ChangeEventHeader).toMatchObject({ changeType: 'DELETE', recordIds: [id] });
    const replayIds = [create, update, remove].map((message) => message.event.replayId);
    expect([...replayIds].sort((a, b) => a - b)).toEqual(replayIds);
    expect(new Set(replayIds).size).toBe(3);
  });

  it('replays from a stored replay id, and -2 replays everything retained', async () => {
    const first = await conn.sobject('Contact').create({ LastName: 'First' });
    const stored = sandbox.changeEvents.latestReplayId;
    const second = await conn.sobject('Contact').create({ LastName: 'Second' });
    await conn.sobject('Account').create({ Name: 'Not a contact' });
    const third = await conn.sobject('Contact').create({ LastName: 'Third' });

    const resumed = subscriber(CONTACTS, stored);
    await resumed.subscription;
    const after = await resumed.inbox.count(2);
    expect(after.map((message) => message.payload.ChangeEventHeader.recordIds[0])).toEqual([
      (second as { id: string }).id,
      (third as { id: string }).id,
    ]);

    const retainedContactEvents = sandbox.changeEvents
      .retained()
      .filter((event) => event.entityName === 'Contact').length;
    const everything = subscriber(CONTACTS, -2);
    await everything.subscription;
    const all = await everything.inbox.count(retainedContactEvents);
    expect(all.map((message) => message.payload.ChangeEventHeader.recordIds[0])).toContain(
      (first as { id: string }).id,
    );
    expect(all.every((message) => message.payload.ChangeEventHeader.entityName === 'Contact')).toBe(true);
  });

  it('refuses an unknown replay id and one older than the 72-hour retention with the Streaming API error', async () => {
    const unknown = subscriber(CONTACTS, 987654);
    await expect(Promise.resolve(unknown.subscription)).rejects.toMatchObject({
      message: expect.stringContaining(
        'The replayId {987654} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.',
      ),
    });

    await conn.sobject('Contact').create({ LastName: 'Old' });
    const old = sandbox.changeEvents.latestReplayId;
    clock.advance(73 * 3_600_000);
    const session = sandbox.oauth.issueTokensDirectly();
    const expired = subscriber(CONTACTS, old, undefined, session.accessToken);
    await expect(Promise.resolve(expired.subscription)).rejects.toMatchObject({
      message: expect.stringContaining(`The replayId {${old}} you provided was invalid`),
    });
    expect(sandbox.changeEvents.retained()).toHaveLength(0);
  });

  it('delays, drops and duplicates live deliveries as configured through the control API', async () => {
    const control = new SandboxControlClient(sandbox.baseUrl);
    const both = subscriber('/data/ChangeEvents', -1);
    await both.subscription;

    // Delayed on the sandbox clock: a later undelayed event overtakes nothing on its own channel.
    await fetch(`${sandbox.baseUrl}/__sandbox/streaming`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ delayMs: 5000 }),
    });
    const delayed = await conn.sobject('Contact').create({ LastName: 'Delayed' });
    sandbox.changeEvents.configure({ delayMs: 0 });
    const contacts = subscriber(CONTACTS, -1);
    const accounts = subscriber(ACCOUNTS, -1);
    await Promise.all([contacts.subscription, accounts.subscription]);
    await conn.sobject('Account').create({ Name: 'Prompt' });
    await accounts.inbox.count(1);
    expect(both.inbox.messages).toHaveLength(0);
    await control.setClock({ advanceMs: 5000 });
    const [late] = await both.inbox.count(1);
    expect(late.payload.ChangeEventHeader.recordIds).toEqual([(delayed as { id: string }).id]);

    // Dropped live but retained: a replay from before it still finds it. Duplicated: twice, same replay id.
    const before = sandbox.changeEvents.latestReplayId;
    sandbox.changeEvents.configure({ dropNext: 1, duplicateNext: 1 });
    const lost = await conn.sobject('Contact').create({ LastName: 'Lost and doubled' });
    const next = await conn.sobject('Contact').create({ LastName: 'Next' });
    const received = await contacts.inbox.count(2);
    expect(received.map((message) => message.payload.ChangeEventHeader.recordIds[0])).toEqual([
      (next as { id: string }).id,
      (next as { id: string }).id,
    ]);
    expect(received[0].event.replayId).toBe(received[1].event.replayId);
    const replayed = subscriber(CONTACTS, before);
    await replayed.subscription;
    const [found] = await replayed.inbox.count(1);
    expect(found.payload.ChangeEventHeader.recordIds).toEqual([(lost as { id: string }).id]);
  });

  it('tells a connected client 401::Authentication invalid with reconnect none when its session dies', async () => {
    const failures: Array<{ error?: string; advice?: { reconnect?: string } }> = [];
    let failed!: () => void;
    const sawFailure = new Promise<void>((resolve) => (failed = resolve));
    const tokens = sandbox.oauth.issueTokensDirectly();
    const { subscription } = subscriber(
      CONTACTS,
      -1,
      (message) => {
        failures.push(message as never);
        failed();
      },
      tokens.accessToken,
    );
    await subscription;
    sandbox.oauth.revokeToken(tokens.accessToken);
    await sawFailure;
    expect(failures[0]).toMatchObject({
      error: '401::Authentication invalid',
      advice: { reconnect: 'none' },
    });

    // A handshake with a dead session is denied with the reason in ext.sfdc.
    const response = await fetch(`${sandbox.instanceUrl}/cometd/${VERSION}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `OAuth ${tokens.accessToken}` },
      body: JSON.stringify([
        { channel: '/meta/handshake', id: '1', version: '1.0', supportedConnectionTypes: ['long-polling'] },
      ]),
    });
    expect(await response.json()).toEqual([
      expect.objectContaining({
        successful: false,
        error: '403::Handshake denied',
        advice: { reconnect: 'none' },
        ext: expect.objectContaining({ sfdc: { failureReason: '401::Authentication invalid' } }),
      }),
    ]);
  });

  it('answers 403::Unknown client after the server forgets a session, and jsforce re-handshakes and resubscribes', async () => {
    const { inbox, subscription } = subscriber(CONTACTS, -1);
    await subscription;
    const before = await conn.sobject('Contact').create({ LastName: 'Before' });
    await inbox.count(1);
    const forgotten = await fetch(`${sandbox.baseUrl}/__sandbox/streaming/forget-clients`, {
      method: 'POST',
    });
    expect(await forgotten.json()).toEqual({ forgotten: expect.any(Number) });
    const after = await conn.sobject('Contact').create({ LastName: 'After' });
    const received = await inbox.count(2);
    expect(received.map((message) => message.payload.ChangeEventHeader.recordIds[0])).toEqual([
      (before as { id: string }).id,
      (after as { id: string }).id,
    ]);
  });
});
