import { ConnectionCredential, CrmConnection, SyncRun, Tenant, type SecretBox } from '@pm/domain';

// Entities as services see them, built without a database (for service specs on auto-mocked repositories).

export function aTenant(overrides: Partial<Tenant> = {}): Tenant {
  return Object.assign(new Tenant(), { id: 'acme', name: 'Acme', active: true }, overrides);
}

export function aConnection(overrides: Partial<CrmConnection> = {}): CrmConnection {
  return Object.assign(
    new CrmConnection(),
    {
      tenant: aTenant(),
      provider: 'hubspot',
      status: 'connected',
      crmAccountId: 'account-1',
      crmAccountName: 'Acme Portal',
    },
    overrides,
  );
}

export function aRun(overrides: Partial<SyncRun> = {}): SyncRun {
  return Object.assign(new SyncRun(), { trigger: 'manual', status: 'queued' }, overrides);
}

/** A credential holding `tokens` sealed for the connection, as the vault stores it. */
export function aCredential(
  box: SecretBox,
  connection: CrmConnection,
  tokens: { accessToken: string; refreshToken?: string },
  overrides: Partial<ConnectionCredential> = {},
): ConnectionCredential {
  const sealed = box.seal(JSON.stringify(tokens), connection.id);
  return Object.assign(new ConnectionCredential(), { connection, ...sealed }, overrides);
}
