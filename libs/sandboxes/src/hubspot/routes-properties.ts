// Properties API. Follows https://developers.hubspot.com/docs/api/crm/properties:
// GET /crm/v3/properties/{objectType} → {results: Property[]}; GET …/{propertyName}; POST … creates a custom
// property (201; 409 OBJECT_ALREADY_EXISTS when the name is taken).
import type { Request } from 'express';
import { errorBody, HubSpotApiError, notFoundError, validationError } from './errors';
import { HubSpotObjectType, resolveObjectType } from './object-types';
import type { PropertyCreateInput, PropertyFieldType, PropertyType } from './properties';
import { bodyObject, isPlainObject, queryBoolean } from './request-params';
import type { HubSpotRouteContext } from './route-context';

const PROPERTY_TYPES: readonly PropertyType[] = [
  'string',
  'number',
  'date',
  'datetime',
  'enumeration',
  'bool',
];
const FIELD_TYPES: readonly PropertyFieldType[] = [
  'text',
  'textarea',
  'number',
  'date',
  'select',
  'radio',
  'checkbox',
  'booleancheckbox',
  'phonenumber',
  'html',
  'file',
  'calculation_equation',
];
const PROPERTY_NAME = /^[a-z][a-z0-9_]*$/;

function objectTypeOf(req: Request): HubSpotObjectType {
  const raw = String(req.params.objectType ?? '');
  const objectType = resolveObjectType(raw);
  if (!objectType) throw validationError(`Unable to infer object type from: ${raw}`);
  return objectType;
}

function parseCreate(body: Record<string, unknown>): PropertyCreateInput {
  const text = (name: string): string | undefined =>
    typeof body[name] === 'string' ? (body[name] as string) : undefined;
  const name = text('name');
  const label = text('label');
  const type = text('type');
  const fieldType = text('fieldType');
  const groupName = text('groupName');
  const missing = [
    ['name', name],
    ['label', label],
    ['type', type],
    ['fieldType', fieldType],
    ['groupName', groupName],
  ]
    .filter(([, value]) => value === undefined)
    .map(([field]) => field as string);
  if (missing.length > 0) throw validationError(`Missing required fields: ${missing.join(', ')}`);
  if (!PROPERTY_NAME.test(name ?? '')) {
    throw validationError(
      `Property name ${String(name)} is invalid: use lower-case letters, digits and underscores.`,
    );
  }
  if (!PROPERTY_TYPES.includes(type as PropertyType))
    throw validationError(`Unknown property type: ${String(type)}`);
  if (!FIELD_TYPES.includes(fieldType as PropertyFieldType)) {
    throw validationError(`Unknown fieldType: ${String(fieldType)}`);
  }
  const options = Array.isArray(body.options)
    ? body.options.filter(isPlainObject).map((option) => ({
        label: String(option.label ?? option.value ?? ''),
        value: String(option.value ?? ''),
        ...(typeof option.displayOrder === 'number' ? { displayOrder: option.displayOrder } : {}),
        ...(typeof option.hidden === 'boolean' ? { hidden: option.hidden } : {}),
        ...(typeof option.description === 'string' ? { description: option.description } : {}),
      }))
    : undefined;
  return {
    name: name as string,
    label: label as string,
    type: type as PropertyType,
    fieldType: fieldType as PropertyFieldType,
    groupName: groupName as string,
    ...(text('description') !== undefined ? { description: text('description') } : {}),
    ...(options ? { options } : {}),
    ...(typeof body.displayOrder === 'number' ? { displayOrder: body.displayOrder } : {}),
    ...(typeof body.hasUniqueValue === 'boolean' ? { hasUniqueValue: body.hasUniqueValue } : {}),
    ...(typeof body.hidden === 'boolean' ? { hidden: body.hidden } : {}),
    ...(typeof body.formField === 'boolean' ? { formField: body.formField } : {}),
  };
}

export function registerPropertyRoutes(context: HubSpotRouteContext): void {
  const { server, portal } = context;

  // GET /crm/v3/properties/{objectType}
  server.get('/crm/v3/properties/:objectType', context.authenticated, (req, res) => {
    const objectType = objectTypeOf(req);
    const archived = queryBoolean(req, 'archived');
    res.json({
      results: portal.properties.list(objectType).filter((property) => property.archived === archived),
    });
  });

  // GET /crm/v3/properties/{objectType}/{propertyName}
  server.get('/crm/v3/properties/:objectType/:propertyName', context.authenticated, (req, res) => {
    const objectType = objectTypeOf(req);
    const property = portal.properties.get(objectType, String(req.params.propertyName));
    if (!property) {
      throw notFoundError(
        `Unable to find property ${String(req.params.propertyName)} for object type ${objectType}`,
      );
    }
    res.json(property);
  });

  // POST /crm/v3/properties/{objectType} — custom property (201)
  const schemaWrite = context.requireScope(
    (req) => `crm.schemas.${resolveObjectType(String(req.params.objectType)) ?? ''}.write`,
  );
  server.post('/crm/v3/properties/:objectType', context.authenticated, schemaWrite, (req, res) => {
    const objectType = objectTypeOf(req);
    const input = parseCreate(bodyObject(req));
    if (portal.properties.has(objectType, input.name)) {
      throw new HubSpotApiError(
        409,
        errorBody('OBJECT_ALREADY_EXISTS', `Property named '${input.name}' already exists.`, {
          context: { name: [input.name] },
        }),
      );
    }
    res.status(201).json(portal.properties.create(objectType, input, server.clock.now()));
  });
}
