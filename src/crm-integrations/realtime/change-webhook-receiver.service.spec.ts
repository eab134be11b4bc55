import { UnauthorizedException } from '@nestjs/common';
import type { CrmConnection } from '@pm/domain';
import { CrmError, CrmErrorCode, type IntegrationPort } from '@pm/integration-port';
import { autoMock } from '@pm/integration-port/testing';
import type { CrmIntegrationsOptions } from '../crm-integrations.options';
import type { ConnectionRepository } from '../repositories';
import type { ChangeHintSink } from './change-hints';
import { ChangeWebhookReceiver, type IncomingWebhook } from './change-webhook-receiver.service';
import type { RealtimeChannelService } from './realtime-channel.service';

const CONNECTION_ID = '11111111-1111-4111-8111-111111111111';
const NOW = new Date('2026-12-06T10:00:00.000Z');

function aConnection(overrides: Partial<CrmConnection> = {}): CrmConnection {
  return {
    id: CONNECTION_ID,
    provider: 'pipedrive',
    status: 'connected',
    crmAccountId: '777',
    settings: { realtime: true },
    ...overrides,
  } as unknown as CrmConnection;
}

const request = (originalUrl: string): IncomingWebhook => ({
  method: 'POST',
  originalUrl,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from('[]'),
});

describe('ChangeWebhookReceiver', () => {
  function setup() {
    const connections = autoMock<ConnectionRepository>('ConnectionRepository');
    const channels = autoMock<RealtimeChannelService>('RealtimeChannelService');
    const sink = autoMock<ChangeHintSink>('ChangeHintSink');
    const hubspot = autoMock<IntegrationPort>('hubspot port');
    const pipedrive = autoMock<IntegrationPort>('pipedrive port');
    Object.assign(hubspot, { provider: 'hubspot' });
    Object.assign(pipedrive, { provider: 'pipedrive' });
    const options = {
      publicUrl: 'https://crm.example.com/',
      webhookSecrets: { hubspot: 'app-secret' },
    } as unknown as CrmIntegrationsOptions;
    const receiver = new ChangeWebhookReceiver(
      connections,
      channels,
      sink,
      options,
      { hubspot, pipedrive } as never,
      { now: () => NOW },
    );
    return { connections, channels, sink, hubspot, pipedrive, receiver };
  }

  it('HubSpot: verifies with the app secret and the signed URL, then hints each real-time connection of the portal', async () => {
    const { connections, sink, hubspot, receiver } = setup();
    hubspot.parseWebhook.mockReturnValue([
      {
        accountId: '42',
        object: 'contacts',
        recordId: '5',
        action: 'updated',
        occurredAt: '2026-12-06T09:59:00.000Z',
        eventId: 'e5',
      },
    ]);
    connections.findConnectedForAccount.mockResolvedValue([
      aConnection({ id: 'on', provider: 'hubspot' }),
      aConnection({ id: 'off', provider: 'hubspot', settings: { realtime: false } as never }),
    ]);
    sink.accept.mockResolvedValue();

    expect(await receiver.hubspot(request('/webhooks/hubspot'))).toEqual({ accepted: 1 });

    expect(hubspot.parseWebhook).toHaveBeenCalledWith(
      expect.objectContaining({ url: 'https://crm.example.com/webhooks/hubspot', receivedAt: NOW }),
      { secret: 'app-secret' },
    );
    expect(connections.findConnectedForAccount).toHaveBeenCalledWith('hubspot', '42');
    expect(sink.accept).toHaveBeenCalledWith([
      {
        connectionId: 'on',
        object: 'contacts',
        crmIds: ['5'],
        action: 'updated',
        occurredAt: new Date('2026-12-06T09:59:00.000Z'),
        eventId: 'e5',
      },
    ]);
  });

  it('HubSpot: a bad signature is a 401 and reaches neither the database nor the sink', async () => {
    const { hubspot, receiver } = setup();
    hubspot.parseWebhook.mockImplementation(() => {
      throw new CrmError(
        CrmErrorCode.INVALID_SIGNATURE,
        'The X-HubSpot-Signature-v3 signature does not match',
      );
    });
    await expect(receiver.hubspot(request('/webhooks/hubspot'))).rejects.toBeInstanceOf(
      UnauthorizedException,
    );
  });

  it('Pipedrive: an unknown connection and wrong credentials get the same 401', async () => {
    const { channels, pipedrive, receiver } = setup();
    channels.secretsFor.mockResolvedValueOnce(null);
    const unknown = await receiver.pipedrive(CONNECTION_ID, request('/x')).catch((error: Error) => error);
    channels.secretsFor.mockResolvedValueOnce({ username: 'u', secret: 'p' });
    pipedrive.parseWebhook.mockImplementation(() => {
      throw new CrmError(
        CrmErrorCode.INVALID_SIGNATURE,
        'Pipedrive webhook rejected: wrong HTTP Basic credentials',
      );
    });
    const wrong = await receiver.pipedrive(CONNECTION_ID, request('/x')).catch((error: Error) => error);
    const malformed = await receiver.pipedrive('not-a-uuid', request('/x')).catch((error: Error) => error);
    for (const error of [unknown, wrong, malformed]) {
      expect(error).toBeInstanceOf(UnauthorizedException);
      expect((error as Error).message).toBe((unknown as Error).message);
    }
  });

  it("Pipedrive: verified events of the connection's company become hints; another company's do not", async () => {
    const { channels, connections, sink, pipedrive, receiver } = setup();
    channels.secretsFor.mockResolvedValue({ username: 'u', secret: 'p' });
    pipedrive.parseWebhook.mockReturnValue([
      {
        accountId: '777',
        object: 'persons',
        recordId: '3',
        action: 'deleted',
        occurredAt: '2026-12-06T09:00:00.000Z',
        eventId: 'a',
      },
      {
        accountId: '888',
        object: 'persons',
        recordId: '4',
        action: 'updated',
        occurredAt: '2026-12-06T09:00:00.000Z',
        eventId: 'b',
      },
    ]);
    connections.findById.mockResolvedValue(aConnection());
    sink.accept.mockResolvedValue();

    expect(await receiver.pipedrive(CONNECTION_ID, request(`/webhooks/pipedrive/${CONNECTION_ID}`))).toEqual({
      accepted: 1,
    });
    expect(pipedrive.parseWebhook).toHaveBeenCalledWith(
      expect.objectContaining({ url: `https://crm.example.com/webhooks/pipedrive/${CONNECTION_ID}` }),
      { username: 'u', secret: 'p' },
    );
    expect(sink.accept).toHaveBeenCalledWith([expect.objectContaining({ crmIds: ['3'], action: 'deleted' })]);
  });

  it('Pipedrive: a verified request for a connection with real-time off is accepted and dropped', async () => {
    const { channels, connections, pipedrive, receiver } = setup();
    channels.secretsFor.mockResolvedValue({ username: 'u', secret: 'p' });
    pipedrive.parseWebhook.mockReturnValue([]);
    connections.findById.mockResolvedValue(aConnection({ settings: { realtime: false } as never }));
    expect(await receiver.pipedrive(CONNECTION_ID, request('/x'))).toEqual({ accepted: 0 });
  });
});
