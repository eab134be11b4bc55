import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CrmErrorCode, type CrmSession, type WebhookRequest } from '@pm/integration-port';
import { createPipedriveSandbox, type PipedriveSandbox } from '@pm/sandboxes';
import { PipedriveConnector } from '../src';
import { connectSession, REDIRECT_URI } from '../src/testing';

/** Pipedrive activities on persons (idempotent by the key in the note) and v2.0 webhooks with Basic auth. */

describe('Pipedrive connector against the Pipedrive sandbox', () => {
  let sandbox: PipedriveSandbox;
  let base: string;
  let connector: PipedriveConnector;
  let session: CrmSession;

  beforeAll(async () => {
    sandbox = createPipedriveSandbox({ redirectUris: [REDIRECT_URI], seed: 11 });
    base = await sandbox.start();
    connector = new PipedriveConnector({
      clientId: sandbox.oauth.clientId,
      clientSecret: sandbox.oauth.clientSecret,
      oauthBaseUrl: base,
      apiBaseUrl: base,
      // Generous: nothing here waits for a timeout, and a busy machine must not fail a write by one.
      requestTimeoutMs: 10_000,
      maxWriteBatch: 50,
      maxConcurrency: 4,
    });
    session = await connectSession(connector);
  });

  afterAll(() => sandbox.stop());

  beforeEach(() => {
    sandbox.reset({ clock: true });
  });

  describe('activities', () => {
    it('logs e-mail activities on the person, once per activity key, and fails a bad target alone', async () => {
      const [person] = sandbox.seedPersons(1, { withOrganizations: true });
      const contact = { crmId: String(person.id), object: 'persons', email: 'x@penguin.example' };
      const inputs = [
        {
          key: '<msg-1@penguinmails.example>:sent',
          kind: 'email_sent' as const,
          occurredAt: '2026-03-02T10:15:00Z',
          subject: 'Hello',
          bodyText: 'Hi <there>',
          from: 'me@penguinmails.example',
          to: ['x@penguin.example'],
          contact,
          companyCrmId: String(person.org_id),
        },
        { key: 'msg-1:opened', kind: 'email_opened' as const, occurredAt: '2026-03-02T11:00:00Z', contact },
        {
          key: 'msg-2:sent',
          kind: 'email_sent' as const,
          occurredAt: '2026-03-02T11:00:00Z',
          contact: { crmId: '999999', object: 'persons', email: 'ghost@penguin.example' },
        },
      ];
      const first = await connector.logActivities(session, inputs);
      expect(first.map((result) => result.key)).toEqual(inputs.map((input) => input.key));
      expect(first[0]).toMatchObject({ ok: true, crmId: expect.any(String) });
      expect(first[1]).toMatchObject({ ok: true });
      expect(first[2]).toMatchObject({
        ok: false,
        error: {
          code: CrmErrorCode.VALIDATION_FAILED,
          message: 'Validation failed: person_id: Person 999999 not found',
        },
      });
      const logged = sandbox.records('activities');
      expect(logged).toHaveLength(2);
      expect(logged[0]).toMatchObject({
        subject: 'Hello',
        type: 'email',
        done: true,
        due_date: '2026-03-02',
        due_time: '10:15',
        person_id: person.id,
        org_id: person.org_id,
      });
      expect(logged[0].note).toContain('Hi &lt;there&gt;');
      expect(logged[1]).toMatchObject({ subject: 'E-mail opened' });

      // Redelivered: the same keys find their activities; nothing new is created.
      const again = await connector.logActivities(session, inputs.slice(0, 2));
      expect(again.map((result) => (result.ok ? result.crmId : undefined))).toEqual(
        first.slice(0, 2).map((result) => (result.ok ? result.crmId : undefined)),
      );
      expect(sandbox.records('activities')).toHaveLength(2);
    });
  });

  describe('webhooks', () => {
    it('subscribes a v2.0 webhook with Basic auth and parses what the sandbox delivers; wrong credentials are refused', async () => {
      const received: WebhookRequest[] = [];
      const receiver = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          received.push({
            method: req.method ?? 'POST',
            url: `http://127.0.0.1${req.url ?? '/'}`,
            headers: req.headers,
            rawBody: Buffer.concat(chunks),
            receivedAt: new Date(),
          });
          res.end('ok');
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/pipedrive`;
        const secrets = { username: 'penguinmails', secret: 'hook-password-1' };
        const webhookId = await connector.createWebhook(session, {
          subscriptionUrl: url,
          eventObject: 'person',
          eventAction: '*',
          username: secrets.username,
          password: secrets.secret,
        });
        const person = sandbox.createInCrm('persons', {
          name: 'Web Hook',
          emails: [{ value: 'wh@penguin.example' }],
        });
        sandbox.editInCrm('persons', person.id as number, { name: 'Webhook Edited' });
        sandbox.deleteInCrm('persons', person.id as number);
        await sandbox.webhooks.idle();
        expect(received).toHaveLength(3);
        const events = received.flatMap((request) => connector.parseWebhook(request, secrets));
        expect(events.map((event) => event.action)).toEqual(['created', 'updated', 'deleted']);
        expect(events[1]).toMatchObject({
          accountId: String(sandbox.companyId),
          object: 'persons',
          recordId: String(person.id),
          changedFields: expect.arrayContaining(['name', 'first_name', 'last_name']),
          eventId: expect.any(String),
        });
        const wrong = { ...secrets, secret: 'guessed' };
        expect(() => connector.parseWebhook(received[0], wrong)).toThrow(
          expect.objectContaining({ code: CrmErrorCode.INVALID_SIGNATURE }),
        );
        const unauthenticated = { ...received[0], headers: { 'content-type': 'application/json' } };
        expect(() => connector.parseWebhook(unauthenticated, secrets)).toThrow(
          expect.objectContaining({ code: CrmErrorCode.INVALID_SIGNATURE }),
        );
        await connector.deleteWebhook(session, webhookId);
        expect(sandbox.webhooks.subscriptions()).toEqual([]);
      } finally {
        await new Promise((resolve) => receiver.close(resolve));
      }
    });
  });
});
