import { createHash, randomBytes } from 'node:crypto';
import { CrmErrorCode, type ChangePage, type CrmSession } from '@pm/integration-port';
import { InMemoryConnector, InMemoryCrm } from '@pm/integration-port/testing';
import { cursorAfter, dropSeen } from './cursor';
import { readAllChanges } from './paginate';
import { withRetry } from './retry';

// The shared helpers driving a real IntegrationPort (the in-memory CRM's connector) end to end, as the engine will.

const REDIRECT_URI = 'https://app.example.test/oauth/callback';

async function connect(
  crm: InMemoryCrm,
  port: InMemoryConnector,
): Promise<{ session: CrmSession; refreshToken: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const { code } = crm.approveAuthorization(
    port.buildAuthorizeUrl({
      state: 'state',
      redirectUri: REDIRECT_URI,
      codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
    }),
  );
  const tokens = await port.exchangeCode({ code, redirectUri: REDIRECT_URI, codeVerifier: verifier });
  return {
    session: { connectionId: 'connection-1', accessToken: tokens.accessToken },
    refreshToken: tokens.refreshToken as string,
  };
}

async function collect(pages: AsyncIterable<ChangePage>): Promise<ChangePage[]> {
  const result: ChangePage[] = [];
  for await (const page of pages) result.push(page);
  return result;
}

describe('connector-kit helpers over the in-memory port', () => {
  it('reads 2,500 contacts sharing one timestamp once each, and resumes from a mid-group cursor', async () => {
    const crm = new InMemoryCrm();
    const port = new InMemoryConnector(crm, { maxReadPage: 1000 });
    const { session } = await connect(crm, port);
    const at = '2026-01-15T12:00:00.000Z';
    for (let n = 0; n < 2500; n++) crm.createRecord('contacts', { email: `bulk${n}@example.com` }, at);

    const pages = await collect(
      readAllChanges(port, session, { object: 'contacts', since: null, pageSize: 1000 }),
    );
    const ids = pages.flatMap((page) => page.records.map((record) => record.id));
    expect(pages).toHaveLength(3);
    expect(new Set(ids).size).toBe(2500);

    const cursor = cursorAfter(pages[0].records, null);
    const resumed = await collect(
      readAllChanges(port, session, { object: 'contacts', since: cursor, pageSize: 1000 }),
    );
    const fresh = resumed.flatMap((page) => dropSeen(page.records, cursor).map((record) => record.id));
    expect(fresh).toEqual(ids.slice(1000));
  });

  it('refreshes an expired token once through withRetry and carries on reading', async () => {
    const crm = new InMemoryCrm();
    const port = new InMemoryConnector(crm);
    let { session, refreshToken } = await connect(crm, port);
    crm.createRecord('contacts', { email: 'one@example.com' });
    crm.expireAccessToken(session.accessToken);
    const refreshed: string[] = [];
    const pages = await collect(
      readAllChanges(
        { readChanges: (_ignored, request) => port.readChanges(session, request) },
        session,
        { object: 'contacts', since: null },
        {
          callPage: (call) =>
            withRetry(call, {
              refreshAuth: async () => {
                const tokens = await port.refreshTokens(refreshToken);
                refreshToken = tokens.refreshToken as string;
                session = { ...session, accessToken: tokens.accessToken };
                refreshed.push(tokens.accessToken);
              },
            }),
        },
      ),
    );
    expect(refreshed).toHaveLength(1);
    expect(pages.flatMap((page) => page.records)).toHaveLength(1);
    await expect(port.refreshTokens('revoked')).rejects.toMatchObject({ code: CrmErrorCode.AUTH_REVOKED });
  });

  it('pages deletions together with records, so a read never holds the whole store', async () => {
    const crm = new InMemoryCrm();
    const port = new InMemoryConnector(crm);
    const { session } = await connect(crm, port);
    const at = '2026-01-15T12:00:00.000Z';
    const ids = Array.from(
      { length: 7 },
      (_, n) => crm.createRecord('contacts', { email: `d${n}@example.com` }, at).id,
    );
    crm.deleteRecord('contacts', ids[0], '2026-01-15T12:00:01.000Z');
    crm.deleteRecord('contacts', ids[1], '2026-01-15T12:00:01.000Z');
    const pages = [];
    for await (const page of readAllChanges(port, session, {
      object: 'contacts',
      since: null,
      pageSize: 2,
    })) {
      pages.push(page);
    }
    expect(pages.map((page) => page.records.length + page.deleted.length)).toEqual([2, 2, 2, 1]);
    expect(pages.flatMap((page) => page.deleted.map((entry) => entry.id))).toEqual([ids[0], ids[1]]);
    expect(pages.flatMap((page) => page.records.map((record) => record.id))).toEqual(ids.slice(2));
  });
});
