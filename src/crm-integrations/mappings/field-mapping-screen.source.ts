import { HttpException, Injectable } from '@nestjs/common';
import type { CrmConnection } from '@pm/domain';
import {
  customFieldName,
  IntegrationPortRegistry,
  LOCAL_COMPANY_FIELDS,
  LOCAL_CONTACT_FIELDS,
} from '@pm/integration-port';
import { normaliseLocalValue, type LocalContact, type MappingProblem } from '@pm/sync-engine';
import type { AuthContext } from '../auth/auth-context';
import { LimitProblem, ValidationProblem } from '../http/problem-details.filter';
import { apiValidationPipe } from '../http/validation.pipe';
import { FieldMappingRepository } from '../repositories';
import {
  mappingRowOf,
  type CrmFieldView,
  type FieldMappingScreenSource,
  type FieldMappingView,
  type MappingPreview,
  type MappingRowView,
  type MatchingKeyView,
} from '../screens/field-mapping-screen';
import { ObjectMappingDto, type CrmObjectFieldsDto } from './field-mapping.dto';
import { FieldMappingService } from './field-mapping.service';
import { mappingSubject } from './mapping-objects';

/** Reads by the screens are not audited; the actor only names who looked, should a service log it. */
const SCREEN_READER = 'admin-screen';

/** The row a problem's name points at (`fields[3].crm`, or `fields.3.crm` from DTO validation); -1 otherwise. */
export function rowOfProblem(name: string): number {
  const match = /^fields(?:\[(\d+)\]|\.(\d+))(?:\.|$)/.exec(name);
  return match ? Number(match[1] ?? match[2]) : -1;
}

/** Problems as the page shows them: beside their row (the part at fault named), the rest above the table. */
export function problemsByRow(problems: readonly MappingProblem[]): Record<number, string> {
  const errors: Record<number, string[]> = {};
  for (const problem of problems) {
    const row = rowOfProblem(problem.name);
    const part = row < 0 ? problem.name : problem.name.replace(/^fields(\[\d+\]|\.\d+)\.?/, '');
    (errors[row] ??= []).push(part ? `${part}: ${problem.reason}` : problem.reason);
  }
  return Object.fromEntries(Object.entries(errors).map(([row, reasons]) => [row, reasons.join('; ')]));
}

const nonEmpty = <T extends object>(value: T | undefined): T | undefined =>
  value && Object.values(value).some((item) => item !== undefined && item !== '') ? value : undefined;

/**
 * A row of the page as the API's mapping entry. Rows come from the browser: nothing is trusted here, the API's
 * own DTO validation checks the result.
 */
export function entryOfRow(row: MappingRowView): Record<string, unknown> {
  const [associatedObject, ...associatedField] = (row.associated ?? '').split('.');
  const formula = nonEmpty(
    row.formula && {
      ...(row.formula.toCrm ? { toCrm: row.formula.toCrm } : {}),
      ...(row.formula.fromCrm ? { fromCrm: row.formula.fromCrm } : {}),
    },
  );
  const valueMap = row.valueMap && {
    ...(nonEmpty(row.valueMap.toCrm) ? { toCrm: row.valueMap.toCrm } : {}),
    ...(nonEmpty(row.valueMap.fromCrm) ? { fromCrm: row.valueMap.fromCrm } : {}),
  };
  return {
    ...(row.local ? { local: row.local } : {}),
    ...(row.crm ? { crm: row.crm } : {}),
    ...(row.associated ? { associated: { object: associatedObject, field: associatedField.join('.') } } : {}),
    direction: row.direction,
    // The DTO's default applies to a codec sent as null, not to one left out.
    codec: row.codec ?? null,
    ...(nonEmpty(valueMap) ? { valueMap } : {}),
    ...(formula ? { formula } : {}),
  };
}

/** The sample contact's values as a stored contact holds them (e-mail normalised, an empty input no value). */
function contactValues(sample: Record<string, string>): LocalContact['values'] {
  const values: Record<string, string | null> = Object.fromEntries(
    LOCAL_CONTACT_FIELDS.map((field) => [field, null]),
  );
  for (const [field, value] of Object.entries(sample)) values[field] = normaliseLocalValue(field, value);
  return values as LocalContact['values'];
}

/** The sample company's values as a stored company holds them (an empty input no value). */
function companyValues(sample: Record<string, string>): Record<string, string | null> {
  const values: Record<string, string | null> = Object.fromEntries(
    LOCAL_COMPANY_FIELDS.map((field) => [field, null]),
  );
  for (const [field, value] of Object.entries(sample))
    values[field] = value.trim() === '' ? null : value.trim();
  return values;
}

/**
 * The Field mapping page on the field-mapping API's service: the same reads (stored mapping, discovered fields),
 * the same DTO and engine validation, the same preview engine and the same audited save
 * (`field_mapping.updated`, the admin as actor). It only turns rows into entries and problems into rows.
 */
@Injectable()
export class ServiceFieldMappingScreenSource implements FieldMappingScreenSource {
  constructor(
    private readonly service: FieldMappingService,
    private readonly repository: FieldMappingRepository,
    private readonly registry: IntegrationPortRegistry,
  ) {}

  async view(connection: CrmConnection): Promise<FieldMappingView> {
    const auth = this.auth(connection, SCREEN_READER);
    return this.repository.inContext(async () => {
      const mappings = await this.service.list(auth, connection.tenant.id, connection.id);
      const chosen = mappings.filter((mapping) => connection.settings.objects.includes(mapping.object));
      const notes: string[] = [];
      const objects: FieldMappingView['objects'] = [];
      for (const mapping of chosen.length > 0 ? chosen : mappings) {
        let crmFields: CrmFieldView[];
        try {
          const [described] = await this.service.fields(auth, connection.tenant.id, connection.id, {
            object: mapping.object,
          });
          crmFields = fieldsOf(described);
        } catch (error) {
          if (!(error instanceof HttpException)) throw error;
          // The page still shows the mapping; only the CRM's field list is missing.
          notes.push(`${mapping.object}'s fields could not be read: ${messageOf(error)}`);
          crmFields = [...new Set(mapping.fields.map((entry) => entry.crm).filter((name) => !!name))].map(
            (name) => ({ name: name as string, label: name as string, type: 'text' }),
          );
        }
        const rows = mapping.fields.map(mappingRowOf);
        const company = this.isCompany(connection, mapping.object);
        objects.push({
          object: mapping.object,
          subject: company ? 'company' : 'contact',
          matchField: mapping.matchField ?? undefined,
          matchLocalField: mapping.matchLocalField ?? undefined,
          crmFields,
          rows,
          // A company row names a company field: name, domain or one of its custom fields.
          ...(company ? { localFields: [...new Set([...LOCAL_COMPANY_FIELDS, ...customOf(rows)])] } : {}),
        });
      }
      const custom = objects
        .filter((object) => object.subject === 'contact')
        .flatMap((object) => customOf(object.rows));
      return {
        editable: true,
        note: notes.length > 0 ? notes.join(' ') : null,
        localFields: [...new Set([...LOCAL_CONTACT_FIELDS, ...custom])],
        objects,
      };
    });
  }

  async preview(
    connection: CrmConnection,
    object: string,
    rows: MappingRowView[],
    sample: Record<string, string>,
    key: MatchingKeyView = {},
  ): Promise<MappingPreview> {
    const auth = this.auth(connection, SCREEN_READER);
    return this.repository.inContext(async () => {
      try {
        const dto = await this.validDto(object, rows, key);
        const tried = await this.service.tryOnValues(
          auth,
          connection.tenant.id,
          connection.id,
          dto,
          // A company object is tried on the sample company (the engine reads whichever values it is given).
          this.isCompany(connection, object)
            ? (companyValues(sample) as LocalContact['values'])
            : contactValues(sample),
        );
        const crm: Record<string, unknown> = {};
        const results: NonNullable<MappingPreview['rows']> = {};
        tried.fields.forEach((field, index) => {
          if (!field.toCrm) return;
          results[index] = field.toCrm;
          if ('value' in field.toCrm && field.crm) crm[field.crm] = field.toCrm.value;
        });
        return { crm, rows: results, errors: problemsByRow(tried.problems) };
      } catch (error) {
        return { crm: {}, rows: {}, errors: errorsOf(error) };
      }
    });
  }

  async save(
    connection: CrmConnection,
    object: string,
    rows: MappingRowView[],
    actor: string,
    key: MatchingKeyView = {},
  ): Promise<{ errors: Record<number, string>; version?: number }> {
    const auth = this.auth(connection, actor);
    return this.repository.inContext(async () => {
      try {
        const dto = await this.validDto(object, rows, key);
        const saved = await this.service.save(auth, connection.tenant.id, connection.id, dto);
        return { errors: {}, version: saved.version };
      } catch (error) {
        return { errors: errorsOf(error) };
      }
    });
  }

  /**
   * The rows and the matching key as the API's body, through the API's own validation pipe (same rules, same
   * problem names). A key side the page leaves empty stays as saved.
   */
  private async validDto(
    object: string,
    rows: MappingRowView[],
    key: MatchingKeyView,
  ): Promise<ObjectMappingDto> {
    const body = {
      object,
      ...(key.matchField ? { matchField: key.matchField } : {}),
      ...(key.matchLocalField ? { matchLocalField: key.matchLocalField } : {}),
      fields: Array.isArray(rows) ? rows.map(entryOfRow) : rows,
    };
    return (await apiValidationPipe.transform(body, {
      type: 'body',
      metatype: ObjectMappingDto,
    })) as ObjectMappingDto;
  }

  private isCompany(connection: CrmConnection, object: string): boolean {
    return (
      this.registry.has(connection.provider) &&
      mappingSubject(this.registry.get(connection.provider), object) === 'company'
    );
  }

  private auth(connection: CrmConnection, actor: string): AuthContext {
    return { actor, tenantId: connection.tenant.id };
  }
}

function customOf(rows: MappingRowView[]): string[] {
  return rows.map((row) => row.local).filter((local) => customFieldName(local) !== undefined);
}

function fieldsOf(described: CrmObjectFieldsDto | undefined): CrmFieldView[] {
  return (described?.fields ?? []).map((field) => ({
    name: field.name,
    label: field.label,
    type: field.type,
    custom: field.custom,
    required: field.required,
    readOnly: field.readOnly,
  }));
}

/** A refusal's problems by row; any other HTTP refusal above the table; anything else is not ours to word. */
function errorsOf(error: unknown): Record<number, string> {
  if (error instanceof ValidationProblem || error instanceof LimitProblem) {
    return problemsByRow(error.invalidParams);
  }
  if (error instanceof HttpException) return { [-1]: messageOf(error) };
  throw error;
}

function messageOf(error: HttpException): string {
  const response = error.getResponse();
  if (typeof response === 'object' && response && 'detail' in response) return String(response.detail);
  return error.message;
}
