import type { ConnectorCapabilities } from '../../types';
import { IN_MEMORY_DEFAULT_COMPANY_MAPPINGS, IN_MEMORY_DEFAULT_MAPPINGS } from './default-mapping';
import { IN_MEMORY_PROVIDER } from './provider';

export interface InMemoryLimits {
  maxWriteBatch: number;
  maxReadPage: number;
}

export function inMemoryCapabilities({ maxWriteBatch, maxReadPage }: InMemoryLimits): ConnectorCapabilities {
  return {
    provider: IN_MEMORY_PROVIDER,
    displayName: 'In-memory CRM',
    objects: [
      {
        name: 'contacts',
        label: 'Contacts',
        role: 'contact',
        emailField: 'email',
        reportsDeletions: true,
        upsertByEmail: true,
      },
      {
        name: 'companies',
        label: 'Companies',
        role: 'company',
        reportsDeletions: true,
        upsertByEmail: false,
      },
    ],
    maxWriteBatch,
    maxReadPage,
    maxConcurrency: 4,
    defaultMappings: IN_MEMORY_DEFAULT_MAPPINGS,
    defaultCompanyMappings: IN_MEMORY_DEFAULT_COMPANY_MAPPINGS,
    rateLimits: [
      { kind: 'window', limit: 100, windowMs: 10_000 },
      { kind: 'daily', limit: 250_000 },
    ],
    webhooks: { supported: true, verification: 'hmac-sha256' },
    oauth: { pkce: true, defaultScopes: ['contacts.read', 'contacts.write'], refreshRotates: true },
  };
}
