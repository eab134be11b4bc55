import { Test } from '@nestjs/testing';
import { HUBSPOT_INTEGRATION_PORT, HubSpotConnector, HubSpotConnectorModule } from '@pm/connectors/hubspot';

describe('HubSpotConnectorModule', () => {
  it('provides the configured connector under HUBSPOT_INTEGRATION_PORT', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        HubSpotConnectorModule.register({
          clientId: 'client-1',
          clientSecret: 'secret-1',
          authorizeUrl: 'http://127.0.0.1:4102/oauth/authorize',
        }),
      ],
    }).compile();
    const connector = moduleRef.get<HubSpotConnector>(HUBSPOT_INTEGRATION_PORT);
    expect(connector).toBeInstanceOf(HubSpotConnector);
    expect(connector.provider).toBe('hubspot');
    const url = new URL(connector.buildAuthorizeUrl({ state: 's', redirectUri: 'http://app.test/cb' }));
    expect(`${url.origin}${url.pathname}`).toBe('http://127.0.0.1:4102/oauth/authorize');
    expect(url.searchParams.get('client_id')).toBe('client-1');
    expect(connector.capabilities()).toMatchObject({ maxWriteBatch: 100, maxReadPage: 200 });
    await moduleRef.close();
  });
});
