import { randomBytes } from 'node:crypto';
import { Global, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { MikroORM } from '@mikro-orm/postgresql';
import { Connection } from 'jsforce';
import { ChangeHintRecord, Company, CrmConnection, RecordLink, type ConnectionSettings } from '@pm/domain';
import type { TokenSet } from '@pm/integration-port';
import { connectorFor, REDIRECT_URI, startSalesforceSandbox } from '@pm/connectors/salesforce/testing';
import type { SalesforceSandbox } from '@pm/sandboxes';
import { signInToSandbox } from '@pm/sandboxes/testing';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/test-database';
import { CrmIntegrationsModule } from '../../crm-integrations.module';
import { CRM_ORM } from '../../database/crm-database';
import { seedConnection } from '../../sync/testing/sync-test-app';
import { SYNC_EXECUTOR_OPTIONS } from '../../sync/sync-executor';
import { SYNC_QUEUE_OPTIONS } from '../../sync/sync.tokens';
import { TokenVault } from '../../vault/token-vault';
import type { ChangeHint, ChangeHintSink } from '../change-hints';
import { QueuedChangeHintSink } from '../queued-change-hint-sink';
import { REALTIME_OPTIONS } from '../realtime.tokens';
import { TargetedSyncExecutor } from '../targeted-sync.executor';
import { SalesforceChangeSubscriber } from './salesforce-change-subscriber';
import { SalesforceStreamModule } from './salesforce-stream.module';

const TENANT = 'rt-salesforce-accounts';

/** Counts the hints the app's own sink (stored, targeted sync queued) accepts, and lets a test wait for one. */
class HandOvers {
  private accepted = 0;
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(sink: ChangeHintSink) {
    const accept = sink.accept.bind(sink);
    sink.accept = async (hints: readonly ChangeHint[]) => {
      await accept(hints);
      this.accepted += hints.length;
      this.waiters = this.waiters.filter((waiter) => {
        if (this.accepted < waiter.count) return true;
        waiter.resolve();
        return false;
      });
    };
  }

  /** Resolves once `count` hints have been accepted in all. */
  async until(count: number): Promise<void> {
    if (this.accepted < count) await new Promise<void>((resolve) => this.waiters.push({ count, resolve }));
  }
}

/**
 * Salesforce Accounts in real time: with Account among the connection's objects the Change Data Capture stream
 * follows `/data/AccountChangeEvent` too; a user's integration (jsforce) creates, renames and deletes an Account in
 * the sandbox, the subscriber stores the hints through the app's sink, and the targeted sync reads the Account
 * back and applies it through the company sync. The lag is measured from the event's commit time on the sandbox's
 * clock to the application on the test's.
 */
describe('real-time sync of Salesforce Accounts (Change Data Capture)', () => {
  let database: TestDatabase;
  let sandbox: SalesforceSandbox;
  let tokens: TokenSet;
  let app: INestApplication;
  let handOvers: HandOvers;
  let salesforce: Connection;
  let connectionId: string;
  let nowMs = Date.now();
  let handed = 0;

  const orm = () => app.get<MikroORM>(CRM_ORM).em.fork();
  const companies = () => orm().find(Company, { tenant: TENANT }, { orderBy: { createdAt: 'asc' } });
  const accountHints = () =>
    orm().find(
      ChangeHintRecord,
      { connection: connectionId, object: 'Account' },
      { orderBy: { receivedAt: 'asc' } },
    );
  /** Waits for the stream to hand over the next change, then applies it `lagMs` after the commit. */
  const applyNext = async (lagMs: number) => {
    await handOvers.until(++handed);
    nowMs = sandbox.changeEvents.retained().at(-1)!.commitMs + lagMs;
    return app.get(TargetedSyncExecutor).process(connectionId);
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    sandbox = await startSalesforceSandbox();
    tokens = await signInToSandbox(connectorFor(sandbox), REDIRECT_URI);
    @Global()
    @Module({
      providers: [
        { provide: REALTIME_OPTIONS, useValue: { now: () => new Date(nowMs), debounceMs: 0 } },
        { provide: SYNC_EXECUTOR_OPTIONS, useValue: { runner: { sleep: async () => undefined } } },
        { provide: SYNC_QUEUE_OPTIONS, useValue: { pollingIntervalSeconds: 0.5 } },
      ],
      exports: [REALTIME_OPTIONS, SYNC_EXECUTOR_OPTIONS, SYNC_QUEUE_OPTIONS],
    })
    class TestBindings {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        TestBindings,
        CrmIntegrationsModule.forRoot({
          database: { clientUrl: database.url, poolMax: 5 },
          encryption: { current: { id: 'test', key: randomBytes(32) } },
          publicUrl: 'http://localhost:0',
          connectors: { salesforce: connectorFor(sandbox) },
        }),
        SalesforceStreamModule.forRoot({ refreshIntervalMs: 0, restartDelayMs: 0 }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    handOvers = new HandOvers(app.get(QueuedChangeHintSink));

    const connection = await seedConnection(app, {
      tenantId: TENANT,
      provider: 'salesforce',
      settings: { objects: ['Contact', 'Account'], realtime: true } as Partial<ConnectionSettings>,
    });
    connectionId = connection.id;
    await orm().nativeUpdate(CrmConnection, { id: connectionId }, { instanceUrl: tokens.instanceUrl });
    await app.get(TokenVault).save(connectionId, tokens);
    const subscriber = app.get(SalesforceChangeSubscriber);
    await subscriber.refresh();
    await subscriber.ready(connectionId);
    salesforce = new Connection({ instanceUrl: tokens.instanceUrl, accessToken: tokens.accessToken });
  });

  afterAll(async () => {
    await app?.close();
    await sandbox?.stop();
    await database?.drop();
  });

  it('follows the Account channel and brings an Account created and renamed with jsforce into PenguinMails', async () => {
    expect(app.get(SalesforceChangeSubscriber).running()).toEqual([connectionId]);
    const created = await salesforce
      .sobject('Account')
      .create({ Name: 'Cyberdyne', Website: 'https://cyberdyne.example' });
    const id = (created as { id: string }).id;
    expect(await applyNext(900)).toBe('applied');
    expect(await companies()).toEqual([
      expect.objectContaining({ name: 'Cyberdyne', domain: 'cyberdyne.example' }),
    ]);

    await salesforce.sobject('Account').update({ Id: id, Name: 'Cyberdyne Systems' });
    expect(await applyNext(1_300)).toBe('applied');
    expect(await companies()).toEqual([
      expect.objectContaining({ name: 'Cyberdyne Systems', domain: 'cyberdyne.example' }),
    ]);
    expect(
      (await accountHints()).map((hint) => ({
        action: hint.action,
        lagMs: hint.lagMs,
        outcome: hint.outcome,
      })),
    ).toEqual([
      { action: 'created', lagMs: 900, outcome: 'present' },
      { action: 'updated', lagMs: 1_300, outcome: 'present' },
    ]);
  });

  it('ends the link of an Account deleted with jsforce and keeps the company (propagateDeletes off)', async () => {
    const [link] = await orm().find(RecordLink, {
      connection: connectionId,
      crmObject: 'Account',
      unlinkedAt: null,
    });
    expect(link).toBeDefined();
    await salesforce.sobject('Account').destroy(link.crmId);
    expect(await applyNext(700)).toBe('applied');

    expect((await accountHints()).at(-1)).toMatchObject({ action: 'deleted', outcome: 'gone' });
    expect(
      await orm().findOne(RecordLink, { connection: connectionId, crmId: link.crmId, unlinkedAt: null }),
    ).toBeNull();
    expect(await companies()).toEqual([
      expect.objectContaining({ name: 'Cyberdyne Systems', deletedAt: null }),
    ]);
  });
});
