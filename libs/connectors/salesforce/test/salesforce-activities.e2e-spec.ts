import {
  CrmErrorCode,
  type ActivityInput,
  type CrmRecord,
  type CrmSession,
  type RateLimitObservation,
} from '@pm/integration-port';
import { crmFailure } from '@pm/integration-port/testing';
import type { SalesforceSandbox } from '@pm/sandboxes';
import type { SalesforceConnector } from '../src';
import { LostResponseProxy } from './lost-response-proxy';
import {
  ACTIVITY_KEY_FIELD,
  asCrmRecord,
  connect,
  connectorFor,
  startSalesforceSandbox,
} from '../src/testing';

const CREATE = 'POST /services/data/:version/composite/sobjects';

describe('Salesforce connector against the Salesforce sandbox (jsforce over HTTP)', () => {
  let sandbox: SalesforceSandbox;
  let connector: SalesforceConnector;
  let session: CrmSession & { refreshToken?: string };
  const observations: RateLimitObservation[] = [];

  beforeAll(async () => {
    sandbox = await startSalesforceSandbox();
    connector = connectorFor(sandbox, { timeoutMs: 2_000 });
    const connected = await connect(sandbox, connector);
    session = { ...connected, onRateLimit: (observation) => observations.push(observation) };
  });

  afterAll(() => sandbox.stop());

  beforeEach(() => {
    sandbox.reset();
    sandbox.rateLimiter.configure({ dailyLimit: 15_000, enforce: false }, true);
    observations.length = 0;
  });

  describe('describe, activities, webhooks', () => {
    it('describes standard and custom fields with type, required, read-only and picklist options', async () => {
      const fields = await connector.describeObject(session, 'Contact');
      const byName = new Map(fields.map((field) => [field.name, field]));
      expect(byName.get('Email')).toMatchObject({
        type: 'email',
        required: false,
        readOnly: false,
        custom: false,
      });
      expect(byName.get('LastName')).toMatchObject({ type: 'string', required: true, readOnly: false });
      expect(byName.get('SystemModstamp')).toMatchObject({
        type: 'datetime',
        readOnly: true,
        required: false,
      });
      expect(byName.get('PenguinMails_Id__c')).toMatchObject({ custom: true, type: 'string' });
      expect(byName.get('AccountId')).toMatchObject({ type: 'reference', crmType: 'reference' });
      expect(byName.get('LeadSource')?.options).toEqual(
        expect.arrayContaining([{ value: 'Web', label: 'Web' }]),
      );
    });

    const activityFor = (
      contact: CrmRecord,
      key: string,
      kind: ActivityInput['kind'] = 'email_sent',
    ): ActivityInput => ({
      key,
      kind,
      occurredAt: '2026-03-02T10:00:00.000Z',
      subject: 'Welcome aboard',
      bodyText: 'Hello from PenguinMails',
      from: 'team@penguinmails.example',
      to: [String(contact.fields.Email)],
      contact: { crmId: contact.id, object: 'Contact', email: String(contact.fields.Email) },
    });

    it('logs e-mail Tasks on the contact and never twice for one activity key (unique key field)', async () => {
      const [contact] = sandbox.seedContacts(1).map((record) => asCrmRecord(record));
      const first = await connector.logActivities(session, [
        activityFor(contact, 'msg-1:sent'),
        activityFor(contact, 'msg-1:opened', 'email_opened'),
        activityFor(contact, 'msg-1:sent'),
      ]);
      expect(first.map((result) => result.ok)).toEqual([true, true, true]);
      expect(first[2]).toEqual(first[0]);
      const tasks = sandbox.records('Task');
      expect(tasks).toHaveLength(2);
      expect(tasks[0].fields).toMatchObject({
        WhoId: contact.id,
        TaskSubtype: 'Email',
        Type: 'Email',
        Status: 'Completed',
        ActivityDate: '2026-03-02',
        Subject: 'Email: Welcome aboard',
        [ACTIVITY_KEY_FIELD]: 'msg-1:sent',
      });
      expect(tasks[1].fields.Subject).toBe('Email opened: Welcome aboard');

      sandbox.counters.reset();
      const redelivered = await connector.logActivities(session, [activityFor(contact, 'msg-1:sent')]);
      expect(redelivered).toEqual([first[0]]);
      expect(sandbox.records('Task')).toHaveLength(2);
      expect(sandbox.counters.count(CREATE)).toBe(0);
    });

    it('answers two racing deliveries of one activity with one Task: the unique key refuses the second insert', async () => {
      const [contact] = sandbox.seedContacts(1).map((record) => asCrmRecord(record));
      // Both lookups find nothing, then both inserts arrive: the sandbox holds each insert for 150 ms.
      sandbox.faults.latency(150, {
        method: 'POST',
        path: '/services/data/:version/composite/sobjects',
        times: 2,
      });
      const [first, second] = await Promise.all([
        connector.logActivities(session, [activityFor(contact, 'msg-race:sent')]),
        connector.logActivities(session, [activityFor(contact, 'msg-race:sent')]),
      ]);
      expect(sandbox.counters.count(CREATE)).toBe(2);
      expect(sandbox.records('Task')).toHaveLength(1);
      expect(first).toEqual([{ key: 'msg-race:sent', ok: true, crmId: sandbox.records('Task')[0].id }]);
      expect(second).toEqual(first);
    });

    it('logs an activity once when Salesforce saved the Task but the answer was lost', async () => {
      const proxy = new LostResponseProxy(sandbox.baseUrl);
      await proxy.start();
      try {
        const viaProxy = { ...session, instanceUrl: proxy.baseUrl };
        const [contact] = sandbox.seedContacts(1).map((record) => asCrmRecord(record));
        proxy.loseNext('POST', /\/composite\/sobjects$/);
        const lost = await crmFailure(
          connector.logActivities(viaProxy, [activityFor(contact, 'msg-lost:sent')]),
        );
        expect(lost.code).toBe(CrmErrorCode.CRM_UNAVAILABLE);
        const [retried] = await connector.logActivities(viaProxy, [activityFor(contact, 'msg-lost:sent')]);
        expect(retried).toEqual({ key: 'msg-lost:sent', ok: true, crmId: sandbox.records('Task')[0].id });
        expect(sandbox.records('Task')).toHaveLength(1);
      } finally {
        await proxy.stop();
      }
    });

    it('without a key field, finds a redelivered activity by the key line in the Task description', async () => {
      const plain = connectorFor(sandbox, { activityKeyField: undefined });
      const [contact] = sandbox.seedContacts(1).map((record) => asCrmRecord(record));
      const [first] = await plain.logActivities(session, [activityFor(contact, 'msg-2:sent')]);
      const [again] = await plain.logActivities(session, [activityFor(contact, 'msg-2:sent')]);
      expect(again).toEqual(first);
      expect(sandbox.records('Task')).toHaveLength(1);
      expect(String(sandbox.records('Task')[0].fields.Description)).toMatch(
        /PenguinMails activity: msg-2:sent$/,
      );
      const [bad] = await plain.logActivities(session, [
        { ...activityFor(contact, 'msg-3'), contact: { crmId: 'nope', object: 'Contact', email: 'x@y.z' } },
      ]);
      expect(bad).toMatchObject({
        ok: false,
        error: { code: CrmErrorCode.VALIDATION_FAILED, field: 'WhoId' },
      });
    });

    it('declares no webhooks and refuses any webhook request', () => {
      expect(connector.capabilities().webhooks).toEqual({ supported: false, verification: 'none' });
      expect(() => connector.parseWebhook()).toThrow(
        expect.objectContaining({ code: CrmErrorCode.INVALID_SIGNATURE }),
      );
    });
  });
});
