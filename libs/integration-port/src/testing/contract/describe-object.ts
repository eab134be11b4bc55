import type { FieldType } from '../../types';
import type { ContractContext } from './contract-context';

const FIELD_TYPES: ReadonlySet<FieldType> = new Set<FieldType>([
  'string',
  'text',
  'email',
  'phone',
  'url',
  'number',
  'boolean',
  'date',
  'datetime',
  'picklist',
  'multipicklist',
  'reference',
  'id',
  'other',
]);

/** describeObject: the contact object's fields. */
export function describeObjectCases(ctx: ContractContext): void {
  it('describes the contact object with typed e-mail and name fields', async () => {
    const fields = await ctx.fixture.port.describeObject(
      await ctx.fixture.session(),
      ctx.fixture.contact.object,
    );
    for (const field of fields) {
      expect(FIELD_TYPES.has(field.type)).toBe(true);
      expect(field).toMatchObject({
        name: expect.any(String),
        label: expect.any(String),
        crmType: expect.any(String),
      });
    }
    const names = fields.map((field) => field.name);
    expect(names).toEqual(expect.arrayContaining(Object.values(ctx.fixture.contact.fields)));
    const email = fields.find((field) => field.name === ctx.fixture.contact.fields.email);
    expect(email?.type).toEqual(expect.any(String));
    expect(email?.readOnly).toBe(false);
  });
}
