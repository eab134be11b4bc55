import type { IntegrationPortRegistry } from '@pm/integration-port';
import { autoMock } from '@pm/integration-port/testing';
import { ValidationProblem } from '../http/problem-details.filter';
import type { FieldMappingRepository } from '../repositories';
import type { MappingRowView } from '../screens/field-mapping-screen';
import { aConnection } from '../testing/entities';
import {
  entryOfRow,
  problemsByRow,
  rowOfProblem,
  ServiceFieldMappingScreenSource,
} from './field-mapping-screen.source';
import type { FieldMappingResponseDto } from './field-mapping.dto';
import type { FieldMappingService } from './field-mapping.service';

const fullName: MappingRowView = {
  local: '',
  crm: 'city',
  direction: 'to_crm',
  formula: { toCrm: "firstName & ' ' & lastName", fromCrm: '' },
  valueMap: { toCrm: {}, fromCrm: undefined },
};

describe('the Field mapping page on the field-mapping service', () => {
  let service: jest.Mocked<FieldMappingService>;
  let source: ServiceFieldMappingScreenSource;
  const connection = aConnection();

  beforeEach(() => {
    service = autoMock<FieldMappingService>('service');
    const repository = autoMock<FieldMappingRepository>('repository');
    repository.inContext.mockImplementation((work) => work());
    // A CRM with a contact object and a company object (its company mapping defaults declared, as connectors do).
    const port = {
      capabilities: () => ({
        objects: [
          { name: 'contacts', role: 'contact' },
          { name: 'companies', role: 'company' },
        ],
        defaultCompanyMappings: { companies: {} },
      }),
    };
    const registry = { has: () => true, get: () => port } as unknown as IntegrationPortRegistry;
    source = new ServiceFieldMappingScreenSource(service, repository, registry);
  });

  it('finds the row a problem names, in the engine’s and the DTO’s spelling', () => {
    expect(rowOfProblem('fields[3].crm')).toBe(3);
    expect(rowOfProblem('fields.12.formula.toCrm')).toBe(12);
    expect(rowOfProblem('fields[0]')).toBe(0);
    expect(rowOfProblem('matchField')).toBe(-1);
    expect(rowOfProblem('fields')).toBe(-1);
    expect(
      problemsByRow([
        { name: 'fields[2].crm', reason: '"x" is not a field of Contact' },
        { name: 'fields[2].formula.toCrm', reason: 'does not parse' },
        { name: 'matchField', reason: 'is not an e-mail' },
      ]),
    ).toEqual({
      2: 'crm: "x" is not a field of Contact; formula.toCrm: does not parse',
      [-1]: 'matchField: is not an e-mail',
    });
  });

  it('turns a row into the API’s entry, leaving out what is empty', () => {
    expect(entryOfRow(fullName)).toEqual({
      crm: 'city',
      direction: 'to_crm',
      codec: null,
      formula: { toCrm: "firstName & ' ' & lastName" },
    });
    expect(
      entryOfRow({
        local: 'company',
        crm: 'company',
        direction: 'both',
        codec: 'text',
        associated: 'companies.name',
        valueMap: { fromCrm: { ACME: 'Acme' } },
      }),
    ).toEqual({
      local: 'company',
      crm: 'company',
      direction: 'both',
      codec: 'text',
      associated: { object: 'companies', field: 'name' },
      valueMap: { fromCrm: { ACME: 'Acme' } },
    });
  });

  it('saves through the service as the admin and answers the version', async () => {
    service.save.mockResolvedValue({ version: 4 } as FieldMappingResponseDto);
    await expect(source.save(connection, 'contacts', [fullName], 'admin:a@acme.example')).resolves.toEqual({
      errors: {},
      version: 4,
    });
    expect(service.save).toHaveBeenCalledWith(
      { actor: 'admin:a@acme.example', tenantId: connection.tenant.id },
      connection.tenant.id,
      connection.id,
      expect.objectContaining({
        object: 'contacts',
        fields: [expect.objectContaining({ crm: 'city', codec: 'text' })],
      }),
    );
  });

  it('puts the service’s refusal beside the rows, and refuses a malformed row before the service', async () => {
    service.save.mockRejectedValue(
      new ValidationProblem([{ name: 'fields[0].crm', reason: '"city" is read-only in HubSpot' }]),
    );
    await expect(source.save(connection, 'contacts', [fullName], 'admin:a')).resolves.toEqual({
      errors: { 0: 'crm: "city" is read-only in HubSpot' },
    });
    service.save.mockClear();
    const sideways = { ...fullName, direction: 'sideways' } as unknown as MappingRowView;
    const { errors } = await source.save(connection, 'contacts', [fullName, sideways], 'admin:a');
    expect(errors[1]).toMatch(/^direction: /);
    expect(service.save).not.toHaveBeenCalled();
  });

  it('previews per row on the sample contact, the e-mail normalised as a stored contact’s', async () => {
    service.tryOnValues.mockResolvedValue({
      fields: [
        { key: 'email', local: 'email', crm: 'email', direction: 'both', toCrm: { value: 'ada@x.example' } },
        { key: '=city', local: null, crm: 'city', direction: 'to_crm', toCrm: { error: 'no such function' } },
      ],
      problems: [{ name: 'fields[1].formula.toCrm', reason: 'unknown function $nope' }],
    });
    const email: MappingRowView = { local: 'email', crm: 'email', direction: 'both', codec: 'email' };
    const preview = await source.preview(connection, 'contacts', [email, fullName], {
      email: ' Ada@X.example ',
      firstName: '',
    });
    expect(preview).toEqual({
      crm: { email: 'ada@x.example' },
      rows: { 0: { value: 'ada@x.example' }, 1: { error: 'no such function' } },
      errors: { 1: 'formula.toCrm: unknown function $nope' },
    });
    const values = service.tryOnValues.mock.calls[0][4];
    expect(values).toMatchObject({ email: 'ada@x.example', firstName: null, lastName: null });
  });

  it('lists a company object the settings select with company fields, and previews it on the sample company', async () => {
    const company = aConnection({ settings: { ...connection.settings, objects: ['contacts', 'companies'] } });
    const mapping = (object: string, local: string) =>
      ({ object, version: 1, fields: [{ local, crm: local, direction: 'both' }] }) as never;
    service.list.mockResolvedValue([mapping('contacts', 'email'), mapping('companies', 'customFields.tier')]);
    service.fields.mockResolvedValue([]);
    const view = await source.view(company);
    expect(view.objects.map((object) => [object.object, object.subject, object.localFields])).toEqual([
      ['contacts', 'contact', undefined],
      ['companies', 'company', ['name', 'domain', 'customFields.tier']],
    ]);
    expect(view.localFields).not.toContain('customFields.tier');

    service.tryOnValues.mockResolvedValue({ fields: [], problems: [] });
    await source.preview(company, 'companies', [], { name: ' Acme ', domain: '' });
    expect(service.tryOnValues.mock.calls[0][4]).toEqual({ name: 'Acme', domain: null });
  });
});
