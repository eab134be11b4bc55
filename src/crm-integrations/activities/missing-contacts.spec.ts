import { CrmErrorCode, type IntegrationPort, type UpsertBatchRequest } from '@pm/integration-port';
import { autoMock } from '@pm/integration-port/testing';
import { DEFAULT_CONNECTION_SETTINGS, type CrmConnection } from '@pm/domain';
import type { SessionProvider } from '@pm/sync-engine';
import type { ActivityContactRepository, RecordLinkRepository } from '../repositories';
import { MissingContacts } from './missing-contacts';

const mapping = {
  object: 'People',
  emailField: 'mail',
  fields: [
    { local: 'email', crm: 'mail', direction: 'both', codec: 'email' },
    { local: 'firstName', crm: 'given', direction: 'both', codec: 'text' },
    { local: 'lastName', crm: 'family', direction: 'both', codec: 'text' },
  ],
} as const;

const connection = {
  id: 'conn-1',
  provider: 'testcrm',
  tenant: { id: 'acme' },
  settings: { ...DEFAULT_CONNECTION_SETTINGS, objects: ['People'], createMissingContacts: true },
} as unknown as CrmConnection;

const local = (id: string, email: string, firstName: string, lastName: string) => ({
  id,
  email,
  values: { email, firstName, lastName },
});

describe('creating the contacts e-mail events name', () => {
  let port: jest.Mocked<IntegrationPort>;
  let contacts: jest.Mocked<ActivityContactRepository>;
  let links: jest.Mocked<RecordLinkRepository>;
  let sessions: jest.Mocked<SessionProvider>;
  const options = {
    retryPolicy: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxWaitMs: 1 },
    sleep: async () => undefined,
  };

  beforeEach(() => {
    port = autoMock<IntegrationPort>('port');
    contacts = autoMock<ActivityContactRepository>('contacts');
    links = autoMock<RecordLinkRepository>('links');
    sessions = autoMock<SessionProvider>('sessions');
    port.capabilities.mockReturnValue({
      displayName: 'TestCRM',
      maxConcurrency: 1,
      maxWriteBatch: 100,
      objects: [],
      defaultMappings: { People: mapping },
    } as never);
    sessions.getSession.mockResolvedValue({ connectionId: 'conn-1', accessToken: 't' });
    links.save.mockResolvedValue(undefined);
  });

  it('links a contact the CRM has by e-mail and creates only the one it lacks, from the PenguinMails values', async () => {
    contacts.ensureLocalContacts.mockResolvedValue(
      new Map([
        ['kai@x.example', local('l-kai', 'kai@x.example', 'Kai', 'Known')],
        ['nia@x.example', local('l-nia', 'nia@x.example', 'Nia', 'New')],
      ]),
    );
    port.findByEmail.mockResolvedValue([
      {
        id: 'crm-kai',
        object: 'People',
        modifiedAt: '2026-12-01T00:00:00Z',
        fields: { mail: 'Kai@X.example' },
      },
    ]);
    port.upsertBatch.mockImplementation(async (_session, request: UpsertBatchRequest) =>
      request.records.map((record) => ({
        key: record.key,
        ok: true as const,
        crmId: 'crm-nia',
        created: true,
      })),
    );

    const outcome = await new MissingContacts(contacts, links).link(
      connection,
      port,
      sessions,
      ['kai@x.example', 'nia@x.example'],
      options,
    );

    expect(port.findByEmail).toHaveBeenCalledWith(expect.anything(), 'People', [
      'kai@x.example',
      'nia@x.example',
    ]);
    expect(port.upsertBatch).toHaveBeenCalledTimes(1);
    expect(port.upsertBatch.mock.calls[0][1]).toEqual({
      object: 'People',
      createsMatched: true,
      records: [{ key: 'nia@x.example', fields: { mail: 'nia@x.example', given: 'Nia', family: 'New' } }],
    });
    expect([...outcome.links]).toEqual([
      ['kai@x.example', { crmObject: 'People', crmId: 'crm-kai' }],
      ['nia@x.example', { crmObject: 'People', crmId: 'crm-nia' }],
    ]);
    expect(links.save).toHaveBeenCalledWith('conn-1', [
      expect.objectContaining({
        localObject: 'contact',
        localId: 'l-kai',
        crmObject: 'People',
        crmId: 'crm-kai',
      }),
      expect.objectContaining({
        localObject: 'contact',
        localId: 'l-nia',
        crmObject: 'People',
        crmId: 'crm-nia',
      }),
    ]);
    expect(outcome.lines.map((line) => [line.action, line.message])).toEqual([
      ['created', 'Contact created for an e-mail event → TestCRM'],
    ]);
  });

  it('logs a create the CRM refuses with its own message and links nothing for it', async () => {
    contacts.ensureLocalContacts.mockResolvedValue(
      new Map([['x@x.example', local('l-x', 'x@x.example', '', '')]]),
    );
    port.findByEmail.mockResolvedValue([]);
    port.upsertBatch.mockResolvedValue([
      {
        key: 'x@x.example',
        ok: false,
        error: { code: CrmErrorCode.VALIDATION_FAILED, message: 'Required fields are missing: [family]' },
      },
    ]);
    const outcome = await new MissingContacts(contacts, links).link(
      connection,
      port,
      sessions,
      ['x@x.example'],
      options,
    );
    expect(outcome.links.size).toBe(0);
    expect(links.save).toHaveBeenCalledWith('conn-1', []);
    expect(outcome.lines).toEqual([
      expect.objectContaining({
        action: 'error',
        message: 'Contact not created for an e-mail event → TestCRM: Required fields are missing: [family]',
      }),
    ]);
  });

  it('asks the CRM nothing when PenguinMails has no contact to bring over (deleted there)', async () => {
    contacts.ensureLocalContacts.mockResolvedValue(new Map());
    const outcome = await new MissingContacts(contacts, links).link(
      connection,
      port,
      sessions,
      ['gone@x.example'],
      options,
    );
    expect(outcome.links.size).toBe(0);
  });
});
