import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { SecretBox } from '@pm/domain';
import {
  CrmError,
  CrmErrorCode,
  IntegrationPortRegistry,
  type IntegrationPort,
  type TokenSet,
} from '@pm/integration-port';
import { autoMock } from '@pm/integration-port/testing';
import type {
  ConnectionCredentialRepository,
  ConnectionRepository,
  LockedCredential,
  SealedCredential,
} from '../repositories';
import { aConnection, aCredential } from '../testing/entities';
import { TokenVault } from './token-vault';

const key = () => ({ id: `key-${randomBytes(3).toString('hex')}`, key: randomBytes(32) });

describe('TokenVault', () => {
  let box: SecretBox;
  let credentials: jest.Mocked<ConnectionCredentialRepository>;
  let connections: jest.Mocked<ConnectionRepository>;
  let port: jest.Mocked<IntegrationPort>;
  let vault: TokenVault;
  let warnings: jest.SpyInstance;
  const connection = aConnection({ id: 'conn-1', provider: 'hubspot', instanceUrl: null });
  const fresh: TokenSet = {
    accessToken: 'access-2',
    refreshToken: 'refresh-2',
    account: { id: 'account-1' },
  };

  /** What the repository was asked to store, opened again with the box. */
  const stored = (values: SealedCredential) =>
    JSON.parse(box.open(values, 'conn-1')) as Record<string, unknown>;

  /** The refresh transaction, run on these in-memory rows. */
  const lockOn = (locked: LockedCredential) =>
    credentials.lockForRefresh.mockImplementation((_id, work) => work(locked as never) as never);

  beforeEach(() => {
    box = new SecretBox(key());
    credentials = autoMock<ConnectionCredentialRepository>('credentials');
    connections = autoMock<ConnectionRepository>('connections');
    port = autoMock<IntegrationPort>('hubspot');
    vault = new TokenVault(credentials, connections, box, new IntegrationPortRegistry({ hubspot: port }));
    connections.findById.mockResolvedValue(connection);
    warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    // Whatever went wrong, no token reaches the log.
    for (const [message] of warnings.mock.calls)
      expect(String(message)).not.toMatch(/access-|refresh-|\br\b/);
    warnings.mockRestore();
  });

  it('seals a new token set bound to the connection, never in clear', async () => {
    credentials.findByConnection.mockResolvedValue(null);
    credentials.save.mockResolvedValue();
    const expiresAt = new Date(Date.now() + 3_600_000);
    await vault.save('conn-1', { ...fresh, expiresAt });
    const [connectionId, values] = credentials.save.mock.calls[0];
    expect(connectionId).toBe('conn-1');
    expect(values.sealed).not.toContain('access-2');
    expect(values).toMatchObject({ keyId: box.currentKeyId, accessTokenExpiresAt: expiresAt });
    expect(stored(values)).toEqual({ accessToken: 'access-2', refreshToken: 'refresh-2' });
    expect(() => new SecretBox(key()).open(values, 'conn-1')).toThrow();
  });

  it('keeps the refresh token it has when a reconnect brings none (Zoho)', async () => {
    credentials.findByConnection.mockResolvedValue(
      aCredential(box, connection, { accessToken: 'old', refreshToken: 'kept' }),
    );
    credentials.save.mockResolvedValue();
    await vault.save('conn-1', { accessToken: 'new', account: { id: 'account-1' } });
    expect(stored(credentials.save.mock.calls[0][1])).toEqual({ accessToken: 'new', refreshToken: 'kept' });
  });

  it('hands out the stored access token while it is valid, without calling the CRM', async () => {
    credentials.findByConnection.mockResolvedValue(
      aCredential(
        box,
        connection,
        { accessToken: 'access-1', refreshToken: 'refresh-1' },
        {
          accessTokenExpiresAt: new Date(Date.now() + 3_600_000),
        },
      ),
    );
    expect(await vault.session('conn-1')).toMatchObject({ connectionId: 'conn-1', accessToken: 'access-1' });
  });

  it('refreshes first when the access token expires within a minute', async () => {
    const credential = aCredential(
      box,
      connection,
      { accessToken: 'access-1', refreshToken: 'refresh-1' },
      {
        accessTokenExpiresAt: new Date(Date.now() + 30_000),
      },
    );
    credentials.findByConnection.mockResolvedValue(credential);
    lockOn({ connection, credential });
    port.refreshTokens.mockResolvedValue(fresh);
    expect(await vault.session('conn-1')).toMatchObject({ accessToken: 'access-2' });
    expect(port.refreshTokens).toHaveBeenCalledWith('refresh-1', { instanceUrl: undefined });
    expect(JSON.parse(box.open(credential, 'conn-1'))).toMatchObject({ accessToken: 'access-2' });
  });

  it('uses the token another worker just refreshed instead of refreshing again', async () => {
    const credential = aCredential(box, connection, { accessToken: 'newer', refreshToken: 'refresh-2' });
    lockOn({ connection, credential });
    expect(await vault.refresh('conn-1', 'stale')).toMatchObject({ accessToken: 'newer' });
    expect(port.refreshTokens).not.toHaveBeenCalled();
  });

  it('moves the connection to needs_reconnect when the CRM refuses the refresh token, and rethrows', async () => {
    const row = aConnection({ id: 'conn-1' });
    lockOn({ connection: row, credential: aCredential(box, row, { accessToken: 'a', refreshToken: 'r' }) });
    port.refreshTokens.mockRejectedValue(new CrmError(CrmErrorCode.AUTH_REVOKED, 'invalid_grant'));
    const error = await vault.refresh('conn-1', 'a').catch((e: unknown) => e);
    expect(CrmError.is(error, CrmErrorCode.AUTH_REVOKED)).toBe(true);
    expect(row).toMatchObject({
      status: 'needs_reconnect',
      statusReason: 'The CRM refused to refresh access: invalid_grant',
      health: 'paused',
    });
  });

  it('does not change the connection when the CRM is merely unreachable during a refresh', async () => {
    const row = aConnection({ id: 'conn-1' });
    lockOn({ connection: row, credential: aCredential(box, row, { accessToken: 'a', refreshToken: 'r' }) });
    port.refreshTokens.mockRejectedValue(new CrmError(CrmErrorCode.CRM_UNAVAILABLE, '503'));
    await expect(vault.refresh('conn-1', 'a')).rejects.toThrow('503');
    expect(row.status).toBe('connected');
  });

  it('retries a call once with a refreshed session when the CRM says the token expired', async () => {
    const credential = aCredential(box, connection, { accessToken: 'a', refreshToken: 'r' });
    credentials.findByConnection.mockResolvedValue(credential);
    lockOn({ connection, credential });
    port.refreshTokens.mockResolvedValue(fresh);
    const call = jest
      .fn()
      .mockRejectedValueOnce(new CrmError(CrmErrorCode.AUTH_EXPIRED, '401'))
      .mockResolvedValueOnce('done');
    expect(await vault.withSession('conn-1', call)).toBe('done');
    expect(call.mock.calls.map(([session]) => (session as { accessToken: string }).accessToken)).toEqual([
      'a',
      'access-2',
    ]);
  });

  it('deletes the secrets on disconnect even when the CRM cannot revoke, and says so', async () => {
    credentials.findByConnection.mockResolvedValue(
      aCredential(box, connection, { accessToken: 'a', refreshToken: 'r' }),
    );
    port.revokeToken.mockRejectedValue(new Error('CRM unreachable'));
    credentials.deleteForConnection.mockResolvedValue();
    expect(await vault.revokeAndDelete('conn-1')).toEqual({ revokedAtCrm: false, reason: 'CRM unreachable' });
    expect(port.revokeToken).toHaveBeenCalledWith('r', { instanceUrl: undefined });
    expect(credentials.deleteForConnection).toHaveBeenCalledWith('conn-1');
  });

  it('re-seals with the current key what an older key sealed', async () => {
    const old = key();
    const current = key();
    const oldBox = new SecretBox(old);
    const sealedWithOld = aCredential(oldBox, connection, { accessToken: 'a', refreshToken: 'r' });
    vault = new TokenVault(
      credentials,
      connections,
      new SecretBox(current, [old]),
      new IntegrationPortRegistry({ hubspot: port }),
    );
    credentials.resealAll.mockImplementation(async (keyId, reseal) => {
      expect(keyId).toBe(current.id);
      Object.assign(sealedWithOld, reseal(sealedWithOld));
      return 1;
    });
    expect(await vault.rotateAll()).toBe(1);
    expect(sealedWithOld.keyId).toBe(current.id);
    expect(JSON.parse(new SecretBox(current).open(sealedWithOld, 'conn-1'))).toEqual({
      accessToken: 'a',
      refreshToken: 'r',
    });
  });
});
