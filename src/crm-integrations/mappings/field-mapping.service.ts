import { HttpException, HttpStatus, Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { CrmConnection, FieldMappingConfig } from '@pm/domain';
import {
  CrmError,
  CrmErrorCode,
  IntegrationPortRegistry,
  type CrmRecord,
  type CrmSession,
  type FieldDescriptor,
  type IntegrationPort,
  type ObjectMapping,
} from '@pm/integration-port';
import {
  companyValues,
  crmFieldsToRead,
  previewMapping,
  validateMapping,
  type FieldPreview,
  type LocalContact,
  type MappingProblem,
  type SessionProvider,
} from '@pm/sync-engine';
import { AuditService } from '../audit/audit.service';
import type { AuthContext } from '../auth/auth-context';
import { ConnectionService } from '../connections/connection.service';
import { ValidationProblem } from '../http/problem-details.filter';
import { CompanyRepository, ContactRepository, FieldMappingRepository } from '../repositories';
import { toLocalCompany } from '../sync/local-company-store';
import { toLocalContact } from '../sync/local-contact-store';
import { rateLimitedPort } from '../rate-limits/rate-limited-port';
import { RateBudgetFactory, budgetAccountKey } from '../sync/rate-budget.factory';
import { SYNC_SESSION_PROVIDER } from '../sync/sync.tokens';
import {
  CrmObjectFieldsDto,
  FieldMappingResponseDto,
  type FieldsQuery,
  type MappingPreviewResponseDto,
  type ObjectMappingDto,
  type PreviewMappingDto,
} from './field-mapping.dto';
import {
  defaultMappingOf,
  mappingSubject,
  requirePreviewSample,
  syncableMappingObjects,
} from './mapping-objects';
import { mappingChanges, MappingRecomparison } from './mapping-recomparison';
import { toObjectMapping } from './object-mapping-of-dto';

/**
 * A tenant's field mappings per connection: read (seeded from the connector's defaults), discovered CRM fields
 * (describeObject, cached per connection), validated saves (audited; a change of key or direction re-compares the
 * linked records on the next run) and previews against a real record. Contact objects and company objects
 * (Account, companies, organizations) alike: a company mapping is stored in the same shape
 * (`companyMappingAsObjectMapping`), with no e-mail key since companies match by domain, else name.
 */
@Injectable()
export class FieldMappingService {
  constructor(
    private readonly connections: ConnectionService,
    private readonly mappings: FieldMappingRepository,
    private readonly contacts: ContactRepository,
    private readonly companies: CompanyRepository,
    private readonly registry: IntegrationPortRegistry,
    /** The token vault (refreshing under its lock), as the sync engine gets its sessions. */
    @Inject(SYNC_SESSION_PROVIDER) private readonly sessions: SessionProvider,
    private readonly audit: AuditService,
    private readonly recomparison: MappingRecomparison,
    private readonly budgets: RateBudgetFactory,
  ) {}

  async list(
    _auth: AuthContext,
    tenantId: string,
    connectionId: string,
    object?: string,
  ): Promise<FieldMappingResponseDto[]> {
    const { connection, port } = await this.connectionAndPort(tenantId, connectionId);
    const objects =
      object === undefined ? syncableMappingObjects(port) : [this.requireSyncable(port, object)];
    const rows: FieldMappingConfig[] = [];
    for (const name of objects) rows.push(await this.current(connection, port, name));
    return rows.map((row) => FieldMappingResponseDto.from(row));
  }

  async fields(
    _auth: AuthContext,
    tenantId: string,
    connectionId: string,
    query: FieldsQuery,
  ): Promise<CrmObjectFieldsDto[]> {
    const { connection, port } = await this.connectionAndPort(tenantId, connectionId);
    const known = port.capabilities().objects.map((candidate) => candidate.name);
    if (query.object !== undefined && !known.includes(query.object)) {
      throw new ValidationProblem([
        {
          name: 'object',
          reason: `"${query.object}" is not an object of ${this.crmName(port)} (${known.join(', ')})`,
        },
      ]);
    }
    const objects = query.object === undefined ? syncableMappingObjects(port) : [query.object];
    const result: CrmObjectFieldsDto[] = [];
    for (const name of objects) {
      const cached = query.refresh ? null : await this.mappings.fieldCache(connection.id, name);
      const row =
        cached ??
        (await this.mappings.saveFieldCache(
          connection.id,
          name,
          await this.describe(connection, port, name),
          new Date(),
        ));
      result.push(CrmObjectFieldsDto.from(row));
    }
    return result;
  }

  async save(
    auth: AuthContext,
    tenantId: string,
    connectionId: string,
    dto: ObjectMappingDto,
  ): Promise<FieldMappingResponseDto> {
    const { connection, port } = await this.connectionAndPort(tenantId, connectionId);
    this.requireSyncable(port, dto.object);
    const current = await this.current(connection, port, dto.object);
    const mapping = toObjectMapping(dto, current.mapping);
    // Saved against the CRM's fields as they are now (a field may have become required or been removed).
    const problems = await this.problems(connection, port, mapping, { fresh: true });
    if (problems.length > 0) throw new ValidationProblem(problems);
    const { saved, previous, previousVersion } = await this.mappings.save(
      connection.id,
      dto.object,
      mapping,
      auth.actor,
    );
    const subject = mappingSubject(port, dto.object);
    const changes = mappingChanges(previous ?? current.mapping, mapping, subject);
    const impact = await this.recomparison.schedule(connection.id, dto.object, changes, subject);
    await this.audit.record(auth, {
      tenantId,
      action: 'field_mapping.updated',
      targetType: 'crm_connection',
      targetId: connection.id,
      before: { object: dto.object, version: previousVersion, mapping: previous },
      after: { object: dto.object, version: saved.version, mapping, changedFields: changes.fields, impact },
    });
    return FieldMappingResponseDto.from(saved, impact);
  }

  async preview(
    _auth: AuthContext,
    tenantId: string,
    connectionId: string,
    dto: PreviewMappingDto,
  ): Promise<MappingPreviewResponseDto> {
    const { connection, port } = await this.connectionAndPort(tenantId, connectionId);
    this.requireSyncable(port, dto.object);
    if (dto.mapping && dto.mapping.object !== dto.object) {
      throw new ValidationProblem([
        { name: 'mapping.object', reason: `must be "${dto.object}", the object previewed` },
      ]);
    }
    const company = mappingSubject(port, dto.object) === 'company';
    requirePreviewSample(dto, company);
    const current = await this.current(connection, port, dto.object);
    const mapping = dto.mapping ? toObjectMapping(dto.mapping, current.mapping) : current.mapping;
    const local = company ? await this.sampleCompany(tenantId, dto) : await this.sampleContact(tenantId, dto);
    const record = await this.sampleRecord(connection, port, mapping, dto);
    const fields = await previewMapping(mapping, {
      local: local?.values,
      crm: record?.fields,
      subject: company ? 'company' : 'contact',
    });
    return {
      object: dto.object,
      contactId: company ? null : (local?.id ?? null),
      ...(company ? { companyId: local?.id ?? null } : {}),
      crmRecordId: record?.id ?? null,
      fields,
      problems: await this.problems(connection, port, mapping),
    };
  }

  /**
   * A proposed mapping tried on given contact (or, for a company object, company) values (the Field mapping page's
   * sample, which no stored record has): each field's value as the CRM would receive it, and what validation on save would say.
   */
  async tryOnValues(
    _auth: AuthContext,
    tenantId: string,
    connectionId: string,
    dto: ObjectMappingDto,
    values: LocalContact['values'],
  ): Promise<{ fields: FieldPreview[]; problems: MappingProblem[] }> {
    const { connection, port } = await this.connectionAndPort(tenantId, connectionId);
    this.requireSyncable(port, dto.object);
    const mapping = toObjectMapping(dto, (await this.current(connection, port, dto.object)).mapping);
    const fields = await previewMapping(mapping, {
      local: values,
      subject: mappingSubject(port, dto.object),
    });
    return { fields, problems: await this.problems(connection, port, mapping) };
  }

  /** Refuses objects the connection cannot sync (the connection settings PATCH asks this too). */
  requireSyncable(port: IntegrationPort, object: string, name = 'object'): string {
    const syncable = syncableMappingObjects(port);
    if (!syncable.includes(object)) {
      throw new ValidationProblem([
        {
          name,
          reason: `${this.crmName(port)} object "${object}" cannot be synced by this connection (it syncs: ${syncable.join(', ')})`,
        },
      ]);
    }
    return object;
  }

  private async current(
    connection: CrmConnection,
    port: IntegrationPort,
    object: string,
  ): Promise<FieldMappingConfig> {
    return this.mappings.findOrSeed(connection.id, object, defaultMappingOf(port, object) as ObjectMapping);
  }

  private async problems(
    connection: CrmConnection,
    port: IntegrationPort,
    mapping: ObjectMapping,
    options: { fresh?: boolean } = {},
  ): Promise<MappingProblem[]> {
    const check = (crmFields: FieldDescriptor[]) =>
      validateMapping(mapping, {
        syncableObjects: syncableMappingObjects(port),
        crmFields,
        defaults: defaultMappingOf(port, mapping.object),
        subject: mappingSubject(port, mapping.object),
        crmName: this.crmName(port),
        crmObjects: port.capabilities().objects.map((candidate) => candidate.name),
      });
    const cached = options.fresh ? null : await this.mappings.fieldCache(connection.id, mapping.object);
    if (!cached) return check(await this.describeAndCache(connection, port, mapping.object));
    const problems = check(cached.fields);
    // A field added in the CRM since the cache was filled: describe once more before calling it unknown.
    if (!problems.some((problem) => problem.reason.includes('is not a field'))) return problems;
    return check(await this.describeAndCache(connection, port, mapping.object));
  }

  private async describeAndCache(connection: CrmConnection, port: IntegrationPort, object: string) {
    const fields = await this.describe(connection, port, object);
    await this.mappings.saveFieldCache(connection.id, object, fields, new Date());
    return fields;
  }

  private async describe(
    connection: CrmConnection,
    port: IntegrationPort,
    object: string,
  ): Promise<FieldDescriptor[]> {
    return this.withSession(connection, port, (session) => port.describeObject(session, object));
  }

  private async sampleContact(tenantId: string, dto: PreviewMappingDto) {
    if (dto.contactId) {
      const contact = await this.contacts.findById(tenantId, dto.contactId);
      if (!contact) throw new NotFoundException(`contactId: no contact "${dto.contactId}" in this tenant`);
      return toLocalContact(contact);
    }
    if (!dto.email) return undefined;
    const contact = await this.contacts.findByEmail(tenantId, dto.email);
    return contact ? toLocalContact(contact) : undefined;
  }

  private async sampleCompany(tenantId: string, dto: PreviewMappingDto) {
    if (!dto.companyId) return undefined;
    const company = await this.companies.findById(tenantId, dto.companyId);
    if (!company) throw new NotFoundException(`companyId: no company "${dto.companyId}" in this tenant`);
    return { id: company.id, values: companyValues(toLocalCompany(company)) };
  }

  private async sampleRecord(
    connection: CrmConnection,
    port: IntegrationPort,
    mapping: ObjectMapping,
    dto: PreviewMappingDto,
  ): Promise<CrmRecord | undefined> {
    if (dto.crmRecordId) {
      const id = dto.crmRecordId;
      const fields = crmFieldsToRead(mapping);
      const [record] = await this.withSession(connection, port, (session) =>
        port.getRecords(session, { object: mapping.object, ids: [id], fields }),
      );
      if (!record)
        throw new NotFoundException(`crmRecordId: no ${mapping.object} "${id}" in ${this.crmName(port)}`);
      return record;
    }
    if (!dto.email) return undefined;
    const email = dto.email;
    const [record] = await this.withSession(connection, port, (session) =>
      port.findByEmail(session, mapping.object, [email.toLowerCase()]),
    );
    if (!record && !dto.contactId && !(await this.contacts.findByEmail(connection.tenant.id, email))) {
      throw new NotFoundException(
        `email: neither PenguinMails nor ${this.crmName(port)} has a record with ${email}`,
      );
    }
    return record;
  }

  /** A CRM call with the connection's session, refreshed once if it expired; a CRM refusal is a 502 naming the CRM. */
  private async withSession<T>(
    connection: CrmConnection,
    port: IntegrationPort,
    call: (session: CrmSession) => Promise<T>,
  ): Promise<T> {
    try {
      const session = await this.sessions.getSession(connection.id);
      try {
        return await call(session);
      } catch (error) {
        if (!(error instanceof CrmError) || error.code !== CrmErrorCode.AUTH_EXPIRED) throw error;
        return await call(await this.sessions.refreshSession(connection.id, session.accessToken));
      }
    } catch (error) {
      if (!(error instanceof CrmError)) throw error;
      const busy = error.code === CrmErrorCode.RATE_LIMITED || error.code === CrmErrorCode.QUOTA_EXHAUSTED;
      throw new HttpException(
        { detail: `${this.crmName(port)} refused the request: ${error.message}` },
        busy ? HttpStatus.SERVICE_UNAVAILABLE : HttpStatus.BAD_GATEWAY,
      );
    }
  }

  /**
   * The tenant's connection and its connector. CRM calls (describe, sample reads) spend from the CRM account's one
   * rate budget, shared with sync runs and activity delivery, at the priority of a user waiting on a screen.
   */
  private async connectionAndPort(tenantId: string, connectionId: string) {
    const connection = await this.connections.require(tenantId, connectionId);
    if (!this.registry.has(connection.provider)) {
      throw new NotFoundException(`No connector is installed for provider "${connection.provider}"`);
    }
    const port = this.registry.get(connection.provider);
    const budget = this.budgets.forAccount(budgetAccountKey(connection), port.capabilities().rateLimits, {
      whenDailyExhausted: 'signal',
    });
    return { connection, port: rateLimitedPort(port, budget, 'interactive') };
  }

  private crmName(port: IntegrationPort): string {
    return port.capabilities().displayName;
  }
}
