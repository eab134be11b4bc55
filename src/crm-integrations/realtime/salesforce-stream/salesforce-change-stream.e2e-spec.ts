import { randomBytes } from 'node:crypto';
import { Global, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { MikroORM } from '@mikro-orm/postgresql';
import { ChangeStreamPosition, CrmConnection, type ConnectionSettings } from '@pm/domain';
import type { TokenSet } from '@pm/integration-port';
import { connectorFor, REDIRECT_URI, startSalesforceSandbox } from '@pm/connectors/salesforce/testing';
import type { SalesforceSandbox } from '@pm/sandboxes';
import { signInToSandbox } from '@pm/sandboxes/testing';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/test-database';
import { CrmIntegrationsModule } from '../../crm-integrations.module';
import { CRM_ORM } from '../../database/crm-database';
import { ChangeStreamPositionRepository } from '../../repositories/change-stream-position.repository';
import { seedConnection } from '../../sync/testing/sync-test-app';
import { SYNC_QUEUE_OPTIONS } from '../../sync/sync.tokens';
import { TokenVault } from '../../vault/token-vault';
import { CHANGE_HINT_SINK, type ChangeHint, type ChangeHintSink } from '../change-hints';
import { SalesforceChangeSubscriber } from './salesforce-change-subscriber';
import { SalesforceStreamModule } from './salesforce-stream.module';

const CHANNEL = '/data/ContactChangeEvent';

/** A sink that records every hint and lets a test wait for one (no sleeps). */
class RecordingSink implements ChangeHintSink {
  readonly hints: ChangeHint[] = [];
  private waiters: Array<{ test: (hints: ChangeHint[]) => boolean; resolve: () => void }> = [];

  accept(hints: readonly ChangeHint[]): Promise<void> {
    this.hints.push(...hints);
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.test(this.hints)) return true;
      waiter.resolve();
      return false;
    });
    return Promise.resolve();
  }

  async until(test: (hints: ChangeHint[]) => boolean): Promise<ChangeHint[]> {
    if (!test(this.hints)) await new Promise<void>((resolve) => this.waiters.push({ test, resolve }));
    return this.hints;
  }

  forRecord(id: string): ChangeHint[] {
    return this.hints.filter((hint) => hint.crmIds.includes(id));
  }
}

/**
 * The subscriber in the app on PostgreSQL, with the real Salesforce connector (jsforce streaming) against the
 * sandbox's CometD endpoint and the real token vault; only the hint sink is a recording one.
 */
describe('Salesforce Change Data Capture subscriber (jsforce streaming against the sandbox)', () => {
  let database: TestDatabase;
  let sandbox: SalesforceSandbox;
  let tokens: TokenSet;
  const encryptionKey = randomBytes(32);
  const apps: INestApplication[] = [];

  async function startApp(sink: RecordingSink): Promise<INestApplication> {
    @Global()
    @Module({
      providers: [
        { provide: CHANGE_HINT_SINK, useValue: sink },
        { provide: SYNC_QUEUE_OPTIONS, useValue: { pollingIntervalSeconds: 0.5 } },
      ],
      exports: [CHANGE_HINT_SINK, SYNC_QUEUE_OPTIONS],
    })
    class TestBindings {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        TestBindings,
        CrmIntegrationsModule.forRoot({
          database: { clientUrl: database.url, poolMax: 3 },
          encryption: { current: { id: 'test', key: encryptionKey } },
          publicUrl: 'http://localhost:0',
          connectors: { salesforce: connectorFor(sandbox) },
        }),
        SalesforceStreamModule.forRoot({ refreshIntervalMs: 0, restartDelayMs: 0 }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    apps.push(app);
    return app;
  }

  async function closeApp(app: INestApplication): Promise<void> {
    apps.splice(apps.indexOf(app), 1);
    await app.close();
  }

  /** A connected Salesforce connection with real-time on and its tokens in the vault. */
  async function connectedConnection(app: INestApplication, tenantId: string): Promise<string> {
    const connection = await seedConnection(app, {
      tenantId,
      provider: 'salesforce',
      settings: { objects: ['Contact'], realtime: true } as Partial<ConnectionSettings>,
    });
    // What the connect flow stores: the org's instance URL, and the tokens sealed in the vault.
    await app
      .get<MikroORM>(CRM_ORM)
      .em.fork()
      .nativeUpdate(CrmConnection, { id: connection.id }, { instanceUrl: tokens.instanceUrl });
    await app.get(TokenVault).save(connection.id, tokens);
    return connection.id;
  }

  async function storedPosition(app: INestApplication, connectionId: string) {
    return app
      .get<MikroORM>(CRM_ORM)
      .em.fork()
      .findOne(ChangeStreamPosition, { connection: connectionId, channel: CHANNEL });
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    sandbox = await startSalesforceSandbox();
    tokens = await signInToSandbox(connectorFor(sandbox), REDIRECT_URI);
  });

  afterEach(async () => {
    // Each test follows its own connection only: the ones before it are disconnected.
    await apps[0]
      ?.get<MikroORM>(CRM_ORM)
      .em.fork()
      .nativeUpdate(CrmConnection, {}, { status: 'disconnected' });
    for (const app of apps.splice(0)) await app.close();
    sandbox.changeEvents.configure({ delayMs: 0, dropNext: 0, duplicateNext: 0 });
  });

  afterAll(async () => {
    await sandbox?.stop();
    await database?.drop();
  });

  it('turns a CRM edit into a hint and stores the replay id after the sink accepted it; stops on disconnect', async () => {
    const sink = new RecordingSink();
    const app = await startApp(sink);
    const connectionId = await connectedConnection(app, 'stream-edit');
    const [ada] = sandbox.stageRecords('Contact', [{ LastName: 'Lovelace', Email: 'ada@example.com' }]);
    const subscriber = app.get(SalesforceChangeSubscriber);
    await subscriber.refresh();
    await subscriber.ready(connectionId);

    sandbox.editInCrm('Contact', ada.id, { Email: 'ada@lovelace.example' });
    const [hint] = await sink
      .until(() => sink.forRecord(ada.id).length > 0)
      .then(() => sink.forRecord(ada.id));
    expect(hint).toEqual({
      connectionId,
      object: 'Contact',
      crmIds: [ada.id],
      action: 'updated',
      occurredAt: new Date(sandbox.changeEvents.retained().at(-1)!.commitMs),
      eventId: String(sandbox.changeEvents.latestReplayId),
    });

    // A gap event is a hint to read the named records again.
    await fetch(`${sandbox.baseUrl}/__sandbox/streaming/gap`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entityName: 'Contact', recordIds: [ada.id], changeType: 'GAP_UPDATE' }),
    });
    await sink.until(() => sink.forRecord(ada.id).length === 2);
    expect(sink.forRecord(ada.id)[1]).toMatchObject({ action: 'other', object: 'Contact', crmIds: [ada.id] });

    // Disconnected: the next refresh stops the stream; what it accepted is stored.
    await app
      .get<MikroORM>(CRM_ORM)
      .em.fork()
      .nativeUpdate(CrmConnection, { id: connectionId }, { status: 'disconnected' });
    await subscriber.refresh();
    expect(subscriber.running()).toEqual([]);
    expect((await storedPosition(app, connectionId))?.position).toBe(sink.forRecord(ada.id)[1].eventId);
  });

  it('resumes after a restart from the stored replay id: the changes in between arrive, none lost, duplicates keep their eventId', async () => {
    const firstSink = new RecordingSink();
    const first = await startApp(firstSink);
    const connectionId = await connectedConnection(first, 'stream-restart');
    const [grace] = sandbox.stageRecords('Contact', [{ LastName: 'Hopper' }]);
    await first.get(SalesforceChangeSubscriber).refresh();
    await first.get(SalesforceChangeSubscriber).ready(connectionId);
    sandbox.editInCrm('Contact', grace.id, { Title: 'Rear Admiral' });
    await firstSink.until(() => firstSink.forRecord(grace.id).length === 1);
    await closeApp(first);

    // While no subscriber runs: a create, an edit (delivered twice live) and a delete.
    const [alan] = sandbox.stageRecords('Contact', [{ LastName: 'Turing' }]);
    sandbox.changeEvents.configure({ duplicateNext: 1 });
    sandbox.editInCrm('Contact', grace.id, { Title: 'Commodore' });
    sandbox.deleteInCrm('Contact', alan.id);
    const missed = sandbox.changeEvents
      .retained()
      .slice(-3)
      .map((event) => String(event.replayId));

    const secondSink = new RecordingSink();
    const second = await startApp(secondSink);
    await second.get(SalesforceChangeSubscriber).refresh();
    await secondSink.until((hints) => hints.length >= 3);
    expect(secondSink.hints.slice(0, 3).map((hint) => [hint.eventId, hint.action, hint.crmIds[0]])).toEqual([
      [missed[0], 'created', alan.id],
      [missed[1], 'updated', grace.id],
      [missed[2], 'deleted', alan.id],
    ]);

    // Live duplicates: the sandbox sends the next live event twice; both hints carry its replay id.
    const [edsger] = sandbox.stageRecords('Contact', [{ LastName: 'Dijkstra' }]);
    await secondSink.until(() => secondSink.forRecord(edsger.id).length === 1);
    sandbox.changeEvents.configure({ duplicateNext: 1 });
    sandbox.editInCrm('Contact', edsger.id, { Title: 'Professor' });
    await secondSink.until(() => secondSink.forRecord(edsger.id).length === 3);
    const [, once, twice] = secondSink.forRecord(edsger.id);
    expect(once.eventId).toBe(twice.eventId);
    expect(once.action).toBe('updated');
  });

  it('re-handshakes with a token the vault refreshed when the session dies, and loses nothing in between', async () => {
    const sink = new RecordingSink();
    const app = await startApp(sink);
    const connectionId = await connectedConnection(app, 'stream-auth');
    const vault = app.get(TokenVault);
    const before = (await vault.session(connectionId)).accessToken;
    const subscriber = app.get(SalesforceChangeSubscriber);
    await subscriber.refresh();
    await subscriber.ready(connectionId);
    const [linus] = sandbox.stageRecords('Contact', [{ LastName: 'Torvalds' }]);
    await sink.until(() => sink.forRecord(linus.id).length === 1);

    sandbox.oauth.expireAllAccessTokens();
    sandbox.editInCrm('Contact', linus.id, { Title: 'Maintainer' });
    // At least once: the create may come again (its position may not have been stored before the session died).
    await sink.until(() => sink.forRecord(linus.id).some((hint) => hint.action === 'updated'));
    expect((await vault.session(connectionId)).accessToken).not.toBe(before);

    const [barbara] = sandbox.stageRecords('Contact', [{ LastName: 'Liskov' }]);
    await sink.until(() => sink.forRecord(barbara.id).length === 1);
  });

  it('stores no position for a hint the sink refused, and hands that change over again', async () => {
    const sink = new RecordingSink();
    let refusals = 1;
    const accept = sink.accept.bind(sink);
    sink.accept = (hints) => {
      if (refusals-- > 0) return Promise.reject(new Error('hint queue unavailable'));
      return accept(hints);
    };
    const app = await startApp(sink);
    const connectionId = await connectedConnection(app, 'stream-refused');
    const subscriber = app.get(SalesforceChangeSubscriber);
    await subscriber.refresh();
    await subscriber.ready(connectionId);
    const before = await storedPosition(app, connectionId);

    const [margaret] = sandbox.stageRecords('Contact', [{ LastName: 'Hamilton' }]);
    const created = String(sandbox.changeEvents.latestReplayId);
    const [hint] = await sink
      .until(() => sink.forRecord(margaret.id).length > 0)
      .then(() => sink.forRecord(margaret.id));
    expect(hint).toMatchObject({ connectionId, action: 'created', eventId: created });
    expect(refusals).toBeLessThan(0);
    expect(before).toBeNull();
    await subscriber.stop(connectionId);
    expect((await storedPosition(app, connectionId))?.position).toBe(created);
  });

  it('falls back to every retained event when the stored replay id is refused, and marks the gap for a reconcile', async () => {
    const sink = new RecordingSink();
    const app = await startApp(sink);
    const connectionId = await connectedConnection(app, 'stream-gap');
    const positions = app.get(ChangeStreamPositionRepository);
    await positions.save(connectionId, CHANNEL, '99999999');
    const retainedContacts = sandbox.changeEvents
      .retained()
      .filter((event) => event.entityName === 'Contact');

    await app.get(SalesforceChangeSubscriber).refresh();
    // Earlier tests' connections are still connected in this database: look at this one's hints only.
    const ours = () => sink.hints.filter((hint) => hint.connectionId === connectionId);
    await sink.until(() => ours().length >= retainedContacts.length);
    expect(ours().map((hint) => hint.eventId)).toEqual(
      retainedContacts.map((event) => String(event.replayId)),
    );
    const [gap] = await positions.gapsOf(connectionId);
    expect(gap.gapDetectedAt).toBeInstanceOf(Date);
  });

  it('has one of two workers follow a stream, and the other take it over when that one stops, missing nothing', async () => {
    const firstSink = new RecordingSink();
    const first = await startApp(firstSink);
    const connectionId = await connectedConnection(first, 'stream-two-workers');
    const secondSink = new RecordingSink();
    const second = await startApp(secondSink);
    await first.get(SalesforceChangeSubscriber).refresh();
    await second.get(SalesforceChangeSubscriber).refresh();
    expect(first.get(SalesforceChangeSubscriber).running()).toEqual([connectionId]);
    expect(second.get(SalesforceChangeSubscriber).running()).toEqual([]);
    await first.get(SalesforceChangeSubscriber).ready(connectionId);

    const [ken] = sandbox.stageRecords('Contact', [{ LastName: 'Thompson' }]);
    await firstSink.until(() => firstSink.forRecord(ken.id).length === 1);

    // The first worker stops; a change made before anyone follows again reaches the second worker's sink.
    await closeApp(first);
    sandbox.editInCrm('Contact', ken.id, { Title: 'Unix' });
    await second.get(SalesforceChangeSubscriber).refresh();
    expect(second.get(SalesforceChangeSubscriber).running()).toEqual([connectionId]);
    await secondSink.until(() => secondSink.forRecord(ken.id).some((hint) => hint.action === 'updated'));
    expect(secondSink.forRecord(ken.id).map((hint) => hint.action)).toEqual(['updated']);
    expect(firstSink.forRecord(ken.id).map((hint) => hint.action)).toEqual(['created']);
  });
});
