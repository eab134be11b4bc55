import { createHash, randomBytes } from 'node:crypto';
import { CrmErrorCode, type CrmSession } from '@pm/integration-port';
import {
  buildInMemoryWebhookRequest,
  describeIntegrationPortContract,
  InMemoryConnector,
  InMemoryCrm,
  type ContractFixture,
} from '@pm/integration-port/testing';

const REDIRECT_URI = 'https://app.example.test/oauth/callback';
const WEBHOOK_SECRET = 'in-memory-webhook-secret';

/** Connects to the in-memory CRM as the product does: authorize URL with PKCE, consent, code exchange. */
async function connect(crm: InMemoryCrm, port: InMemoryConnector): Promise<CrmSession> {
  const verifier = randomBytes(32).toString('base64url');
  const authorizeUrl = port.buildAuthorizeUrl({
    state: 'state-1',
    redirectUri: REDIRECT_URI,
    codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
  });
  const { code } = crm.approveAuthorization(authorizeUrl);
  const tokens = await port.exchangeCode({ code, redirectUri: REDIRECT_URI, codeVerifier: verifier });
  return { connectionId: 'connection-1', accessToken: tokens.accessToken, accountId: tokens.account.id };
}

function inMemoryFixture(): ContractFixture {
  const crm = new InMemoryCrm();
  const port = new InMemoryConnector(crm);
  let session: Promise<CrmSession> | undefined;
  return {
    port,
    session: () => (session ??= connect(crm, port)),
    contact: {
      object: 'contacts',
      fields: { email: 'email', firstName: 'firstname', lastName: 'lastname', customKey: 'external_id' },
    },
    oauth: { redirectUri: REDIRECT_URI },
    readPageSize: 25,
    staging: {
      createContacts: async (contacts, options) =>
        contacts.map((contact) =>
          crm.createRecord(
            'contacts',
            { email: contact.email, firstname: contact.firstName, lastname: contact.lastName },
            options?.at,
          ),
        ),
      editContact: async (id, fields, options) => crm.updateRecord('contacts', id, fields, options?.at),
      deleteContact: async (id, options) => crm.deleteRecord('contacts', id, options?.at),
      readContact: async (id) => crm.getRecord('contacts', id),
      invalidContact: (valid) => ({
        fields: { ...valid, email: 'not-an-email' },
        message: 'Email address not-an-email is invalid',
        field: 'email',
      }),
    },
    webhooks: {
      secrets: { secret: WEBHOOK_SECRET },
      buildRequest: (change, secrets) =>
        buildInMemoryWebhookRequest(
          [
            {
              accountId: crm.accountId,
              object: 'contacts',
              recordId: change.recordId,
              action: change.action,
              occurredAt: crm.now(),
              eventId: randomBytes(4).toString('hex'),
            },
          ],
          secrets.secret,
        ),
    },
  };
}

describeIntegrationPortContract('in-memory connector', async () => inMemoryFixture());

// Behaviour of the in-memory CRM that the contract does not cover but the engine's tests lean on.
describe('InMemoryConnector', () => {
  it('rejects a code exchange whose PKCE verifier does not match, and rotates refresh tokens', async () => {
    const crm = new InMemoryCrm();
    const port = new InMemoryConnector(crm);
    const challenge = createHash('sha256').update('the-right-verifier').digest('base64url');
    const { code } = crm.approveAuthorization(
      port.buildAuthorizeUrl({ state: 's', redirectUri: REDIRECT_URI, codeChallenge: challenge }),
    );
    await expect(
      port.exchangeCode({ code, redirectUri: REDIRECT_URI, codeVerifier: 'wrong' }),
    ).rejects.toMatchObject({
      code: CrmErrorCode.AUTH_REVOKED,
    });

    const session = await connect(crm, port);
    const first = await port.refreshTokens(
      (
        await (async () => {
          const { code: second } = crm.approveAuthorization(
            port.buildAuthorizeUrl({ state: 's', redirectUri: REDIRECT_URI }),
          );
          return port.exchangeCode({ code: second, redirectUri: REDIRECT_URI });
        })()
      ).refreshToken as string,
    );
    await expect(port.refreshTokens(first.refreshToken as string)).resolves.toMatchObject({
      accessToken: expect.any(String),
    });
    await expect(port.refreshTokens(first.refreshToken as string)).rejects.toMatchObject({
      code: CrmErrorCode.AUTH_REVOKED,
    });
    expect(session.accessToken).toMatch(/^imat-/);
  });

  it('answers AUTH_EXPIRED once the access token expired, and ABORTED for an aborted session', async () => {
    const crm = new InMemoryCrm();
    const port = new InMemoryConnector(crm);
    const session = await connect(crm, port);
    await expect(port.findByEmail(session, 'contacts', ['a@example.com'])).resolves.toEqual([]);
    crm.expireAccessToken(session.accessToken);
    await expect(port.findByEmail(session, 'contacts', ['a@example.com'])).rejects.toMatchObject({
      code: CrmErrorCode.AUTH_EXPIRED,
    });
    const aborted = { ...(await connect(crm, port)), signal: AbortSignal.abort() };
    await expect(port.describeObject(aborted, 'contacts')).rejects.toMatchObject({
      code: CrmErrorCode.ABORTED,
    });
  });

  it('refuses a batch above maxWriteBatch and a page token from another read', async () => {
    const crm = new InMemoryCrm();
    const port = new InMemoryConnector(crm, { maxWriteBatch: 2 });
    const session = await connect(crm, port);
    const records = [1, 2, 3].map((n) => ({ key: `k${n}`, fields: { email: `p${n}@example.com` } }));
    await expect(port.upsertBatch(session, { object: 'contacts', records })).rejects.toMatchObject({
      code: CrmErrorCode.VALIDATION_FAILED,
    });
    for (let n = 0; n < 5; n++) crm.createRecord('contacts', { email: `p${n}@example.com` });
    const first = await port.readChanges(session, { object: 'contacts', since: null, pageSize: 2 });
    await expect(
      port.readChanges(session, {
        object: 'contacts',
        since: { modifiedAt: '2000-01-01T00:00:00.000Z' },
        pageToken: first.nextPageToken,
      }),
    ).rejects.toMatchObject({ code: CrmErrorCode.VALIDATION_FAILED });
  });

  it('looks a create up by e-mail unless the caller says it just did (createsMatched), as the real connectors do', async () => {
    const crm = new InMemoryCrm();
    const port = new InMemoryConnector(crm);
    const session = await connect(crm, port);
    crm.createRecord('contacts', { email: 'known@example.com', firstname: 'Known' });
    const emailSearches = jest.spyOn(crm, 'recordsByEmail');
    const create = { key: 'k1', fields: { email: 'known@example.com', firstname: 'Again' } };

    const [checked] = await port.upsertBatch(session, { object: 'contacts', records: [create] });
    expect(checked).toMatchObject({ ok: true, created: false });
    expect(emailSearches).toHaveBeenCalledTimes(1);

    const [trusted] = await port.upsertBatch(session, {
      object: 'contacts',
      records: [{ ...create, fields: { email: 'new@example.com' } }],
      createsMatched: true,
    });
    expect(trusted).toMatchObject({ ok: true, created: true });
    expect(emailSearches).toHaveBeenCalledTimes(1);
  });

  it('logs a redelivered activity once and reports an unknown contact for that activity alone', async () => {
    const crm = new InMemoryCrm();
    const port = new InMemoryConnector(crm);
    const session = await connect(crm, port);
    const contact = crm.createRecord('contacts', { email: 'reader@example.com' });
    const activity = {
      key: 'message-1:sent',
      kind: 'email_sent' as const,
      occurredAt: '2026-01-15T12:00:00.000Z',
      contact: { crmId: contact.id, object: 'contacts', email: 'reader@example.com' },
    };
    const [first] = await port.logActivities(session, [activity]);
    const results = await port.logActivities(session, [
      activity,
      { ...activity, key: 'message-2:sent', contact: { ...activity.contact, crmId: '999999' } },
    ]);
    expect(results[0]).toEqual(first);
    expect(results[1]).toMatchObject({ ok: false, error: { code: CrmErrorCode.NOT_FOUND } });
    expect(crm.activities()).toHaveLength(1);
  });

  it('rejects a webhook replayed more than five minutes later', () => {
    const port = new InMemoryConnector(new InMemoryCrm());
    const sentAt = new Date('2026-01-15T12:00:00Z');
    const request = buildInMemoryWebhookRequest([], WEBHOOK_SECRET, {
      sentAt,
      receivedAt: new Date(sentAt.getTime() + 6 * 60_000),
    });
    expect(() => port.parseWebhook(request, { secret: WEBHOOK_SECRET })).toThrow('more than five minutes');
  });
});
