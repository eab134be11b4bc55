import { HubSpotConnector } from '@pm/connectors/hubspot';
import { PipedriveConnector } from '@pm/connectors/pipedrive';
import { SalesforceConnector } from '@pm/connectors/salesforce';
import type { IntegrationPort } from '@pm/integration-port';
import { companyObjectToSync, decodeCompany, encodeCompany } from '@pm/sync-engine';

// Each connector declares its company mapping beside its contact mappings; the engine reads it through the port.
const credentials = { clientId: 'client-id', clientSecret: 'client-secret' };
const connectors: IntegrationPort[] = [
  new SalesforceConnector(credentials),
  new HubSpotConnector(credentials),
  new PipedriveConnector(credentials),
];

describe('the connectors’ default company mappings, as the engine applies them', () => {
  it.each(connectors.map((connector) => [connector.provider, connector] as const))(
    '%s maps its company object (name and domain) and names contact objects it has as associable',
    async (_provider, connector) => {
      const capabilities = connector.capabilities();
      const companyObjects = capabilities.objects.filter((object) => object.role === 'company');
      const contactObjects = capabilities.objects.filter((o) => o.role === 'contact').map((o) => o.name);
      expect(Object.keys(capabilities.defaultCompanyMappings ?? {})).toEqual(
        companyObjects.map((o) => o.name),
      );
      for (const object of companyObjects) {
        const mapping = capabilities.defaultCompanyMappings?.[object.name];
        expect(mapping?.object).toBe(object.name);
        expect(mapping?.fields.map((entry) => entry.local).sort()).toEqual(['domain', 'name']);
        expect(mapping?.associates.length).toBeGreaterThan(0);
        for (const associable of mapping?.associates ?? []) expect(contactObjects).toContain(associable);
        // Selected in the settings, the object is synced as companies; not selected, it is not.
        const connection = { id: 'c1', tenantId: 't1', provider: connector.provider };
        expect(
          (await companyObjectToSync(capabilities, connection, [...contactObjects, object.name]))?.object,
        ).toBe(object.name);
        expect(await companyObjectToSync(capabilities, connection, contactObjects)).toBeUndefined();
      }
    },
  );

  it('reads each CRM’s web address or domain as a bare domain, and writes the bare domain', () => {
    const [salesforce, hubspot, pipedrive] = connectors.map((connector) => connector.capabilities());
    const account = salesforce.defaultCompanyMappings?.Account;
    expect(decodeCompany(account!, { Name: ' Acme ', Website: 'https://www.ACME.com/contact' })).toEqual({
      name: 'Acme',
      domain: 'acme.com',
    });
    expect(encodeCompany(account!, { name: 'Acme', domain: 'acme.com' })).toEqual({
      Name: 'Acme',
      Website: 'acme.com',
    });
    expect(encodeCompany(hubspot.defaultCompanyMappings!.companies, { domain: 'acme.com' })).toEqual({
      domain: 'acme.com',
    });
    expect(
      decodeCompany(pipedrive.defaultCompanyMappings!.organizations, { name: 'Acme', website: null }),
    ).toEqual({
      name: 'Acme',
      domain: null,
    });
  });
});
