import { IN_MEMORY_DEFAULT_MAPPINGS, IN_MEMORY_PROVIDER } from '@pm/integration-port/testing';
import { DEFAULT_CONNECTION_SETTINGS, type ConnectionSettings } from '@pm/domain/model';
import { randomUUID } from 'node:crypto';
import {
  LOCAL_CONTACT_FIELDS,
  type LocalContactField,
  type ObjectMapping,
  type FieldMappingSource,
} from '../field-mapping';
import type { LocalContact, SyncConnection } from '../ports';

/** The in-memory CRM's contacts mapping, as its connector declares it (mapped like HubSpot's). */
export const IN_MEMORY_CONTACTS_MAPPING: ObjectMapping = IN_MEMORY_DEFAULT_MAPPINGS.contacts;

export const inMemoryMappings: FieldMappingSource = {
  mappingFor: (connection, object) =>
    connection.provider === IN_MEMORY_PROVIDER && object === 'contacts'
      ? IN_MEMORY_CONTACTS_MAPPING
      : undefined,
};

export function aConnection(
  overrides: Partial<Omit<SyncConnection, 'settings'>> & { settings?: Partial<ConnectionSettings> } = {},
): SyncConnection {
  return {
    id: overrides.id ?? randomUUID(),
    tenantId: overrides.tenantId ?? 'acme',
    provider: overrides.provider ?? IN_MEMORY_PROVIDER,
    health: overrides.health ?? 'healthy',
    settings: { ...DEFAULT_CONNECTION_SETTINGS, objects: ['contacts'], ...overrides.settings },
  };
}

export function aLocalContact(
  overrides: Partial<Omit<LocalContact, 'values'>> & {
    values?: Partial<Record<LocalContactField, string | null>>;
  } = {},
): LocalContact {
  const email = overrides.email ?? `${randomUUID().slice(0, 8)}@example.com`;
  const values = Object.fromEntries(LOCAL_CONTACT_FIELDS.map((field) => [field, null])) as Record<
    LocalContactField,
    string | null
  >;
  return {
    id: overrides.id ?? randomUUID(),
    email,
    values: { ...values, email, ...overrides.values },
    updatedAt: overrides.updatedAt ?? new Date('2026-01-01T00:00:00Z'),
    deletedAt: overrides.deletedAt ?? null,
  };
}

/** A signed-in session on an in-memory CRM, and a session provider handing it out (refresh: a new token). */
export function inMemorySessions(
  crm: import('@pm/integration-port/testing').InMemoryCrm,
  connector: import('@pm/integration-port/testing').InMemoryConnector,
): import('../ports').SessionProvider & { refreshes: number } {
  const signIn = () => {
    const approval = crm.approveAuthorization(
      connector.buildAuthorizeUrl({ state: 's', redirectUri: 'https://app.example.test/cb' }),
    );
    return crm.exchangeCode({ code: approval.code, redirectUri: approval.redirectUri });
  };
  let tokens = signIn();
  const provider = {
    refreshes: 0,
    getSession: async (connectionId: string) => ({ connectionId, accessToken: tokens.accessToken }),
    refreshSession: async (connectionId: string) => {
      provider.refreshes++;
      tokens = crm.refresh(tokens.refreshToken as string);
      return { connectionId, accessToken: tokens.accessToken };
    },
  };
  return provider;
}
