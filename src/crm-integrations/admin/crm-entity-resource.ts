import {
  ReferenceKind,
  type EntityManager,
  type EntityMetadata,
  type EntityProperty,
  type FilterQuery,
  type MikroORM,
} from '@mikro-orm/core';
import { AuditLogEntry } from '@pm/domain';
import type { ActionContext, BaseProperty, BaseRecord, Filter, ParamsType } from 'adminjs';
import { adminActor, type CrmAdminIdentity, type CrmAdminResolver } from './admin-identity';
import type { AdminJsRuntime } from './adminjs-runtime';
import { databaseRefusal } from './crm-entity-errors';
import { rowSnapshot } from './crm-entity-snapshot';
import { adminFilterToWhere, parseAdminInput } from './crm-entity-input';
import { defineCrmProperty } from './crm-entity-property';
import {
  canAdmin,
  isReference,
  isUuidColumn,
  tenantIdOfRow,
  tenantScope,
  UUID,
  type CrmAdminOperation,
  type CrmResourcePolicy,
} from './crm-resource-policy';

export * from './crm-resource-policy';

/**
 * Builds the AdminJS resource class for the plugin's entities on the AdminJS modules loaded at run time.
 *
 * It is an adapter of its own (built on @adminjs/mikroorm's property mapping) rather than the stock MikroORM
 * resource, because every read and write must pass through the admin's tenant scope and every write must leave an
 * audit entry, whichever action (list, search, show, edit, bulk delete, reference lookups) reaches it. Instances are
 * handed to AdminJS ready-made, so no adapter a host registers can wrap them and bypass those rules (keep it so: a
 * `model` field would make @adminjs/mikroorm's `isAdapterFor` claim them and re-wrap them unscoped).
 */
export function defineCrmEntityResource(runtime: AdminJsRuntime) {
  const { BaseResource, BaseRecord: AdminRecord, ValidationError, ForbiddenError } = runtime.adminjs;
  const CrmProperty = defineCrmProperty(runtime);

  return class CrmEntityResource extends BaseResource {
    private readonly meta: EntityMetadata;
    private readonly props: Map<string, BaseProperty>;
    private readonly entityProps: Map<string, EntityProperty>;
    private readonly primaryKey: string;
    private readonly requiredOnCreate: Set<string>;

    constructor(
      private readonly orm: MikroORM,
      readonly policy: CrmResourcePolicy,
      private readonly resolveAdmin: CrmAdminResolver,
      /** Entity class name → AdminJS resource id, for references between the plugin's resources. */
      referenceIds: ReadonlyMap<string, string>,
    ) {
      super();
      this.meta = orm.getMetadata().get(policy.entity.name);
      this.primaryKey = this.meta.primaryKeys[0];
      // Hidden properties (credentials, password and token hashes) never become AdminJS properties at all, so no
      // screen, filter, form or API response can show or set them.
      const shown = this.meta.props.filter(
        (prop) => !prop.hidden && (prop.kind === ReferenceKind.SCALAR || isReference(prop)),
      );
      this.entityProps = new Map(shown.map((prop) => [prop.name, prop]));
      // What the entity's own initialisers do not fill in must come from the form.
      const blank = new policy.entity() as Record<string, unknown>;
      this.requiredOnCreate = new Set(
        shown
          .filter((prop) => !prop.nullable && prop.default === undefined && blank[prop.name] === undefined)
          .filter((prop) => !prop.primary || policy.primaryKeyEditableOnCreate)
          .map((prop) => prop.name),
      );
      this.props = new Map(
        shown.map((prop, index) => [
          prop.name,
          new CrmProperty(
            prop,
            index,
            referenceIds,
            !!policy.primaryKeyEditableOnCreate,
            this.requiredOnCreate.has(prop.name),
            policy.systemProperties?.includes(prop.name) ?? false,
          ),
        ]),
      );
    }

    override databaseName(): string {
      return 'crm-integrations';
    }

    override databaseType(): string {
      return 'postgresql';
    }

    override id(): string {
      return this.policy.resourceId;
    }

    override properties(): BaseProperty[] {
      return [...this.props.values()];
    }

    override property(path: string): BaseProperty | null {
      return this.props.get(path) ?? null;
    }

    override build(params: Record<string, unknown>): BaseRecord {
      return new AdminRecord(params, this);
    }

    // ---- reads: always inside the admin's scope; outside it there is simply nothing to find -------------------

    override async count(filter: Filter, context?: ActionContext): Promise<number> {
      const where = this.scopedWhere(context, this.filterToWhere(filter));
      return where ? this.orm.em.fork().count(this.policy.entity, where) : 0;
    }

    override async find(
      filter: Filter,
      options: { limit?: number; offset?: number; sort?: { sortBy?: string; direction?: 'asc' | 'desc' } },
      context?: ActionContext,
    ): Promise<BaseRecord[]> {
      const where = this.scopedWhere(context, this.filterToWhere(filter));
      if (!where) return [];
      const sortBy = options.sort?.sortBy;
      const direction = options.sort?.direction === 'asc' ? 'asc' : 'desc';
      const orderBy =
        sortBy && this.props.get(sortBy)?.isSortable()
          ? { [sortBy]: direction }
          : { [this.primaryKey]: 'desc' };
      const rows = await this.orm.em.fork().find(this.policy.entity, where, {
        orderBy: orderBy as never,
        limit: options.limit ?? 10,
        offset: options.offset ?? 0,
      });
      return rows.map((row) => this.build(this.toParams(row)));
    }

    override async findOne(id: string, context?: ActionContext): Promise<BaseRecord | null> {
      const row = await this.findScoped(this.orm.em.fork(), id, context, 'read');
      return row ? this.build(this.toParams(row)) : null;
    }

    override async findMany(ids: Array<string | number>, context?: ActionContext): Promise<BaseRecord[]> {
      const valid = ids.map(String).filter((id) => this.isValidId(id));
      const where = this.scopedWhere(context, { [this.primaryKey]: { $in: valid } });
      if (!where || valid.length === 0) return [];
      const rows = await this.orm.em.fork().find(this.policy.entity, where);
      return rows.map((row) => this.build(this.toParams(row)));
    }

    // ---- writes: permission, tenant forcing, validation and the audit entry in one transaction ----------------

    override async create(params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
      const identity = this.require(context, 'create');
      const data = this.parseInput(params, { isNew: true });
      if (identity.tenantId !== null && this.policy.tenantPath === 'tenant') data.tenant = identity.tenantId;
      const auditNotes: Record<string, unknown> = {};
      await this.policy.beforeWrite?.({ params, data, identity, isNew: true, auditNotes }, runtime);
      // An unticked checkbox sends nothing: a required yes/no left out is a no, not a missing value.
      for (const name of this.requiredOnCreate) {
        if (this.props.get(name)?.type() === 'boolean' && (data[name] === undefined || data[name] === null)) {
          data[name] = false;
        }
      }
      const missing = [...this.requiredOnCreate].filter(
        (name) => data[name] === undefined || data[name] === null,
      );
      if (missing.length > 0) {
        throw new ValidationError(
          Object.fromEntries(missing.map((name) => [name, { message: 'is required', type: 'required' }])),
        );
      }
      return this.writing(async (em) => {
        const row = em.create(this.policy.entity, data as never);
        await em.flush();
        this.audit(em, identity, 'created', row, null, { ...this.snapshot(row), ...auditNotes });
        return this.toParams(row);
      });
    }

    override async update(
      id: string,
      params: Record<string, unknown>,
      context?: ActionContext,
    ): Promise<ParamsType> {
      const identity = this.require(context, 'edit');
      const data = this.parseInput(params, { isNew: false });
      // A tenant admin cannot move a row to another tenant: the tenant stays its own whatever the form says.
      if (identity.tenantId !== null && this.policy.tenantPath === 'tenant') data.tenant = identity.tenantId;
      const auditNotes: Record<string, unknown> = {};
      await this.policy.beforeWrite?.({ params, data, identity, isNew: false, auditNotes }, runtime);
      return this.change(
        id,
        context,
        'edit',
        'updated',
        (em, row) => em.assign(row, data as never),
        auditNotes,
      );
    }

    override async delete(id: string, context?: ActionContext): Promise<void> {
      const identity = this.require(context, 'delete');
      await this.writing(async (em) => {
        const row = await this.findScoped(em, id, context, 'delete');
        if (!row) throw new ForbiddenError('This record does not exist or is outside your tenant.');
        const before = this.snapshot(row);
        await this.checkRefusal(em, { kind: 'delete', row, before });
        em.remove(row);
        await em.flush();
        this.audit(em, identity, 'deleted', row, before, null);
      });
    }

    /**
     * Applies a change to one row the admin may `operation`, audited as `verb`. Custom actions (revoking a token)
     * use it too, so they get the same scope check and audit entry as edits.
     */
    async change(
      id: string,
      context: ActionContext | undefined,
      operation: CrmAdminOperation,
      verb: string,
      mutate: (em: EntityManager, row: object) => void,
      auditNotes: Record<string, unknown> = {},
    ): Promise<ParamsType> {
      const identity = this.require(context, operation);
      return this.writing(async (em) => {
        const row = await this.findScoped(em, id, context, operation);
        if (!row) throw new ForbiddenError('This record does not exist or is outside your tenant.');
        const before = this.snapshot(row);
        mutate(em, row);
        await this.checkRefusal(em, { kind: 'edit', row, before });
        await em.flush();
        this.audit(em, identity, verb, row, before, { ...this.snapshot(row), ...auditNotes });
        return this.toParams(row);
      });
    }

    identityOf(context?: ActionContext): CrmAdminIdentity | null {
      return this.resolveAdmin(context?.currentAdmin as Record<string, unknown> | undefined);
    }

    private require(context: ActionContext | undefined, operation: CrmAdminOperation): CrmAdminIdentity {
      const identity = this.identityOf(context);
      if (!identity || !canAdmin(identity, this.policy, operation)) {
        throw new ForbiddenError(`You may not ${operation} ${this.policy.resourceId} records.`);
      }
      return identity;
    }

    private scopedWhere(
      context: ActionContext | undefined,
      where: Record<string, unknown>,
    ): FilterQuery<object> | null {
      const identity = this.identityOf(context);
      if (!identity || !canAdmin(identity, this.policy, 'read')) return null;
      return { $and: [where, tenantScope(identity, this.policy.tenantPath)] } as FilterQuery<object>;
    }

    private async findScoped(
      em: EntityManager,
      id: string,
      context: ActionContext | undefined,
      operation: CrmAdminOperation,
    ): Promise<object | null> {
      const identity = this.identityOf(context);
      if (!identity || !canAdmin(identity, this.policy, operation) || !this.isValidId(id)) return null;
      const where = { $and: [{ [this.primaryKey]: id }, tenantScope(identity, this.policy.tenantPath)] };
      return em.findOne(this.policy.entity, where as FilterQuery<object>);
    }

    private async checkRefusal(
      em: EntityManager,
      change: { kind: 'edit' | 'delete'; row: object; before: Record<string, unknown> },
    ): Promise<void> {
      const reason = await this.policy.refuseChange?.(em, change);
      if (reason) throw new ValidationError({}, { message: reason, type: 'refused' });
    }

    private isValidId(id: string): boolean {
      if (id === '') return false;
      const pk = this.meta.properties[this.primaryKey];
      if (isUuidColumn(pk)) return UUID.test(id);
      if (pk.columnTypes?.[0] === 'bigint') return /^\d+$/.test(id);
      return true;
    }

    private async writing<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
      try {
        return await this.orm.em.fork().transactional(work);
      } catch (error) {
        throw this.toAdminError(error);
      }
    }

    /** Database refusals become form errors the admin can act on instead of a crashed page. */
    private toAdminError(error: unknown): unknown {
      const refusal = databaseRefusal(error, this.entityProps);
      if (!refusal) return error;
      const { field, message } = refusal;
      const base = { message: `The database refused the change: ${message}`, type: 'database' };
      return field && this.props.has(field)
        ? new ValidationError({ [field]: { message, type: 'database' } }, base)
        : new ValidationError({}, base);
    }

    private audit(
      em: EntityManager,
      identity: CrmAdminIdentity,
      verb: string,
      row: object,
      before: Record<string, unknown> | null,
      after: Record<string, unknown> | null,
    ): void {
      em.create(AuditLogEntry, {
        tenantId: tenantIdOfRow(row, this.policy.tenantPath),
        actor: adminActor(identity),
        action: `admin.${this.policy.resourceId}.${verb}`,
        targetType: this.meta.className,
        targetId: String((row as Record<string, unknown>)[this.primaryKey]),
        before,
        after,
      });
    }

    /** A row as AdminJS params: only the shown properties, references as ids, JSON as indented text. */
    private toParams(row: object): Record<string, unknown> {
      return this.snapshot(row, true);
    }

    /** The shown properties of a row; for the audit trail JSON stays structured. */
    private snapshot(row: object, jsonAsText = false): Record<string, unknown> {
      return rowSnapshot(row, this.entityProps, jsonAsText);
    }

    /** Form values (all strings) to entity data, for editable properties only: nothing else can be set. */
    private parseInput(
      params: Record<string, unknown>,
      options: { isNew: boolean },
    ): Record<string, unknown> {
      const { data, errors } = parseAdminInput(params, this.entityProps, this.props, options);
      if (Object.keys(errors).length > 0) throw new ValidationError(errors);
      return data;
    }

    /** AdminJS list filters to a MikroORM query; exact matches for ids, references and fixed value lists. */
    private filterToWhere(filter: Filter | undefined): Record<string, unknown> {
      return adminFilterToWhere(
        filter,
        this.entityProps,
        this.props,
        (path) => !!this.decorate()?.getPropertyByKey(path)?.availableValues(),
      );
    }
  };
}

export type CrmEntityResourceClass = ReturnType<typeof defineCrmEntityResource>;
export type CrmEntityResource = InstanceType<CrmEntityResourceClass>;
