import { collectChangePages } from '@pm/connector-kit/testing';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CrmErrorCode, type CrmSession } from '@pm/integration-port';
import { HubSpotConnector } from '@pm/connectors/hubspot';
import { startHubSpotTestBed, type HubSpotTestBed } from '../src/testing';

/** Every page of a read, as the engine's paginator drives it. */
describe('HubSpot connector against the HubSpot sandbox', () => {
  let bed: HubSpotTestBed;
  let session: CrmSession;
  let connector: HubSpotConnector;

  beforeAll(async () => {
    bed = await startHubSpotTestBed();
    session = await bed.session();
  });

  afterAll(() => bed.close());

  beforeEach(() => {
    bed.sandbox.reset();
    bed.observations.length = 0;
    // A fresh connector per test, so no test depends on what an earlier one left in its memory.
    connector = new HubSpotConnector(bed.config);
  });

  describe('activities', () => {
    it('logs emails associated to the contact, once per activity key even when delivered again', async () => {
      const [contact] = bed.sandbox.seedContacts(1);
      const [company] = bed.sandbox.seedCompanies(1);
      const activity = {
        key: 'msg-1:sent',
        kind: 'email_sent' as const,
        occurredAt: '2026-11-20T10:00:00.000Z',
        subject: 'Hello from PenguinMails',
        bodyText: 'Fish?',
        from: 'sender@penguinmails.example',
        to: [contact.properties.email],
        contact: { crmId: contact.id, object: 'contacts', email: contact.properties.email },
        companyCrmId: company.id,
      };
      const orphan = {
        ...activity,
        key: 'msg-2:sent',
        contact: { ...activity.contact, crmId: '424242' },
        companyCrmId: undefined,
      };
      const [logged, failed] = await connector.logActivities(session, [activity, orphan]);
      expect(logged).toMatchObject({ key: 'msg-1:sent', ok: true, crmId: expect.any(String) });
      expect(failed).toMatchObject({
        key: 'msg-2:sent',
        ok: false,
        error: { code: CrmErrorCode.VALIDATION_FAILED },
      });
      const emailId = logged.ok ? logged.crmId : '';
      expect(bed.sandbox.record('emails', emailId)?.properties).toMatchObject({
        hs_email_subject: 'Hello from PenguinMails',
        hs_email_direction: 'EMAIL',
        hs_email_status: 'SENT',
        hs_timestamp: '2026-11-20T10:00:00.000Z',
        penguinmails_activity_key: 'msg-1:sent',
      });
      expect(
        bed.sandbox.portal.associations.list('emails', emailId, 'contacts').map((edge) => edge.toId),
      ).toEqual([contact.id]);
      expect(
        bed.sandbox.portal.associations.list('emails', emailId, 'companies').map((edge) => edge.toId),
      ).toEqual([company.id]);

      // Redelivered (and once more inside the same call): still one engagement, same id.
      const again = await connector.logActivities(session, [activity, activity]);
      expect(again).toEqual([
        { key: 'msg-1:sent', ok: true, crmId: emailId },
        { key: 'msg-1:sent', ok: true, crmId: emailId },
      ]);
      expect(bed.sandbox.records('emails')).toHaveLength(1);
      // The key property is created once per account.
      expect(bed.sandbox.counters.count('POST /crm/v3/properties/:objectType')).toBe(1);

      // Someone deletes the property in HubSpot (here: a sandbox reset): the failed call makes the next one recreate it.
      bed.sandbox.reset();
      const [fresh] = bed.sandbox.seedContacts(1);
      const target = {
        ...activity,
        key: 'msg-3:sent',
        contact: { ...activity.contact, crmId: fresh.id },
        companyCrmId: undefined,
      };
      await expect(connector.logActivities(session, [target])).rejects.toMatchObject({
        code: CrmErrorCode.VALIDATION_FAILED,
      });
      expect(await connector.logActivities(session, [target])).toEqual([
        { key: 'msg-3:sent', ok: true, crmId: expect.any(String) },
      ]);

      // The engagement reads back as an activity with its contact association.
      const [emailPage] = await collectChangePages(connector, session, { object: 'emails', since: null });
      expect(emailPage.records).toEqual([
        expect.objectContaining({
          id: emailId,
          object: 'emails',
          fields: expect.objectContaining({ hs_email_subject: 'Hello from PenguinMails' }),
          associations: { contacts: [contact.id] },
        }),
      ]);
    });
  });

  describe('webhooks', () => {
    it('verifies and maps a change notification the sandbox really sent; refuses it when stale or forged', async () => {
      const received: Array<{ url: string; headers: http.IncomingHttpHeaders; body: Buffer }> = [];
      const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          received.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/hubspot`;
      try {
        bed.sandbox.subscribeWebhooks(url, ['contact.propertyChange']);
        const [contact] = bed.sandbox.seedContacts(1);
        bed.sandbox.editInCrm('contacts', contact.id, { jobtitle: 'Rockhopper' });
        await bed.sandbox.flushWebhooks();
        expect(received).toHaveLength(1);
        const request = {
          method: 'POST',
          url,
          headers: received[0].headers,
          rawBody: received[0].body,
          receivedAt: new Date(),
        };
        const secrets = { secret: bed.sandbox.oauth.clientSecret };
        expect(connector.parseWebhook(request, secrets)).toEqual([
          expect.objectContaining({
            accountId: String(bed.sandbox.portalId),
            object: 'contacts',
            recordId: contact.id,
            action: 'updated',
            changedFields: ['jobtitle'],
          }),
        ]);
        const stale = { ...request, receivedAt: new Date(Date.now() + 5 * 60_000 + 1000) };
        expect(() => connector.parseWebhook(stale, secrets)).toThrow(
          expect.objectContaining({ code: CrmErrorCode.INVALID_SIGNATURE }),
        );
        expect(() => connector.parseWebhook({ ...request, url: `${url}?forged=1` }, secrets)).toThrow(
          expect.objectContaining({ code: CrmErrorCode.INVALID_SIGNATURE }),
        );
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });
});
