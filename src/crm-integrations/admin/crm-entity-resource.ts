import {
  DriverException,
  ForeignKeyConstraintViolationException,
  NotNullConstraintViolationException,
  ReferenceKind,
  UniqueConstraintViolationException,
  wrap,
  type EntityManager,
  type EntityMetadata,
  type EntityProperty,
  type FilterQuery,
  type MikroORM,
} from '@mikro-orm/core';
import { AuditLogEntry } from '@pm/domain';
import type { ActionContext, BaseProperty, BaseRecord, Filter, ParamsType, PropertyType } from 'adminjs';
import { adminActor, type CrmAdminIdentity, type CrmAdminResolver } from './admin-identity';
import type { AdminJsRuntime } from './adminjs-runtime';

/** Changes an admin may make to a resource's rows (reading is decided by `read`). */
export type CrmAdminOperation = 'read' | 'create' | 'edit' | 'delete';

/** How a row belongs to a tenant; null: platform data that only superadmins see. */
export type TenantPath = 'tenant' | 'id' | 'tenantId' | 'connection.tenant';

// A plain entity class; the constructor's arity is irrelevant because AdminJS never builds entities itself.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any constructor signature must fit
export type EntityClass = new (...args: any[]) => object;

export interface CrmWriteInput {
  /** The raw (flattened) form values AdminJS sent, virtual fields included. */
  params: Record<string, unknown>;
  /** The parsed values of the entity's own editable properties, about to be assigned; may be changed. */
  data: Record<string, unknown>;
  identity: CrmAdminIdentity;
  isNew: boolean;
  /** Extra facts for the audit entry (never secrets): `{ passwordChanged: true }`. */
  auditNotes: Record<string, unknown>;
}

export interface CrmResourcePolicy {
  entity: EntityClass;
  /** The AdminJS resource id (also its URL segment): prefixed so it never clashes with a host's own resources. */
  resourceId: string;
  tenantPath: TenantPath | null;
  permissions: { superadmin: CrmAdminOperation[]; tenant_admin: CrmAdminOperation[] };
  /** Tenant ids are the workspace ids PenguinMails already uses, so they are typed in on creation. */
  primaryKeyEditableOnCreate?: boolean;
  /**
   * Properties only the system sets (the OAuth flow, the sync): shown, never taken from a form, whatever the
   * request carries. Where a token is sent (a connection's instance URL, provider, account) is one of them.
   */
  systemProperties?: readonly string[];
  /** Virtual fields (a password) turned into entity data, and server-side rules; may throw a ValidationError. */
  beforeWrite?: (input: CrmWriteInput, runtime: AdminJsRuntime) => Promise<void> | void;
  /**
   * A rule across rows checked inside the write's transaction, after an edit is applied or before a delete:
   * returns why the change is refused (the last superadmin must stay), or null.
   */
  refuseChange?: (
    em: EntityManager,
    change: { kind: 'edit' | 'delete'; row: object; before: Record<string, unknown> },
  ) => Promise<string | null>;
}

export function canAdmin(
  identity: CrmAdminIdentity | null,
  policy: Pick<CrmResourcePolicy, 'permissions' | 'tenantPath'>,
  operation: CrmAdminOperation,
): boolean {
  if (!identity) return false;
  if (identity.tenantId !== null && policy.tenantPath === null) return false;
  return policy.permissions[identity.tenantId === null ? 'superadmin' : 'tenant_admin'].includes(operation);
}

/** The rows an admin may see: nothing extra for a superadmin, its own tenant's rows for a tenant admin. */
export function tenantScope(
  identity: CrmAdminIdentity,
  tenantPath: TenantPath | null,
): Record<string, unknown> {
  if (identity.tenantId === null) return {};
  switch (tenantPath) {
    case 'tenant':
      return { tenant: identity.tenantId };
    case 'id':
      return { id: identity.tenantId };
    case 'tenantId':
      return { tenantId: identity.tenantId };
    case 'connection.tenant':
      return { connection: { tenant: identity.tenantId } };
    default:
      throw new Error('A tenant admin has no access to platform-level rows');
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isJsonProperty(prop: EntityProperty): boolean {
  const column = prop.columnTypes?.[0];
  return column === 'json' || column === 'jsonb' || prop.type === 'json' || prop.type === 'JsonType';
}

function isReference(prop: EntityProperty): boolean {
  return prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && !!prop.owner);
}

function isUuidColumn(prop: EntityProperty | undefined): boolean {
  return prop?.columnTypes?.[0] === 'uuid' || prop?.type === 'uuid';
}

/** Whether `value` can be a value of the key column `prop` (a uuid, an integer, or text). */
function isWellFormedKey(prop: EntityProperty | undefined, value: string): boolean {
  if (isUuidColumn(prop)) return UUID.test(value);
  const column = prop?.columnTypes?.[0] ?? '';
  if (/^(bigint|int|integer|smallint|serial|bigserial)/.test(column) || prop?.type === 'number') {
    return /^\d{1,18}$/.test(value);
  }
  return true;
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (character) => `\\${character}`);
}

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
  const {
    BaseProperty,
    BaseResource,
    BaseRecord: AdminRecord,
    ValidationError,
    ForbiddenError,
  } = runtime.adminjs;

  const { DATA_TYPES } = runtime.mikroOrm;

  /** A MikroORM property as AdminJS sees it; the column type mapping is @adminjs/mikroorm's own. */
  class CrmProperty extends BaseProperty {
    constructor(
      private readonly entityProperty: EntityProperty,
      private readonly index: number,
      private readonly referenceIds: ReadonlyMap<string, string>,
      private readonly editableId: boolean,
      private readonly required: boolean,
      private readonly systemSet: boolean,
    ) {
      super({ path: entityProperty.name });
    }

    override isId(): boolean {
      return !!this.entityProperty.primary;
    }

    override isEditable(): boolean {
      if (this.isId()) return this.editableId;
      return !this.systemSet && !['createdAt', 'updatedAt'].includes(this.entityProperty.name);
    }

    /** Required in the form only when neither the database nor the entity fills it in. */
    override isRequired(): boolean {
      return this.required;
    }

    override isSortable(): boolean {
      return !isJsonProperty(this.entityProperty) && !isReference(this.entityProperty);
    }

    override position(): number {
      return this.index;
    }

    override reference(): string | null {
      if (!isReference(this.entityProperty)) return null;
      const target = this.entityProperty.targetMeta?.className ?? this.entityProperty.type;
      return this.referenceIds.get(target) ?? null;
    }

    // JSON columns are shown and edited as JSON text: AdminJS's 'mixed' needs sub-properties declared up front.
    override type(): PropertyType {
      if (isReference(this.entityProperty)) return 'reference';
      if (isJsonProperty(this.entityProperty)) return 'textarea';
      const column = this.entityProperty.columnTypes?.[0] ?? '';
      return DATA_TYPES[column] ?? DATA_TYPES[this.entityProperty.type] ?? 'string';
    }
  }

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
      if (!(error instanceof DriverException)) return error;
      const column =
        /column "([^"]+)"/.exec(error.message)?.[1] ?? /Key \(([^)]+)\)/.exec(error.message)?.[1];
      const field =
        [...this.entityProps.values()].find((prop) => prop.fieldNames?.includes(column ?? ''))?.name ??
        column;
      const message =
        error instanceof UniqueConstraintViolationException
          ? 'is already taken'
          : error instanceof NotNullConstraintViolationException
            ? 'is required'
            : error instanceof ForeignKeyConstraintViolationException
              ? 'refers to a record that does not exist'
              : 'was refused by the database';
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
        tenantId: this.tenantIdOf(row),
        actor: adminActor(identity),
        action: `admin.${this.policy.resourceId}.${verb}`,
        targetType: this.meta.className,
        targetId: String((row as Record<string, unknown>)[this.primaryKey]),
        before,
        after,
      });
    }

    private tenantIdOf(row: object): string | null {
      const values = row as Record<string, unknown>;
      const idOf = (value: unknown): string | null =>
        value && typeof value === 'object' ? String(wrap(value, true).getPrimaryKey()) : null;
      switch (this.policy.tenantPath) {
        case 'tenant':
          return idOf(values.tenant);
        case 'id':
          return String(values.id);
        case 'tenantId':
          return (values.tenantId as string | null) ?? null;
        case 'connection.tenant':
          return idOf((values.connection as Record<string, unknown> | undefined)?.tenant);
        default:
          return null;
      }
    }

    /** A row as AdminJS params: only the shown properties, references as ids, JSON as indented text. */
    private toParams(row: object): Record<string, unknown> {
      return this.snapshot(row, true);
    }

    /** The shown properties of a row; for the audit trail JSON stays structured. */
    private snapshot(row: object, jsonAsText = false): Record<string, unknown> {
      const values = row as Record<string, unknown>;
      const params: Record<string, unknown> = {};
      for (const [name, prop] of this.entityProps) {
        const value = values[name];
        if (isReference(prop)) {
          params[name] =
            value && typeof value === 'object' ? String(wrap(value, true).getPrimaryKey()) : null;
        } else if (isJsonProperty(prop)) {
          params[name] =
            value === null || value === undefined
              ? null
              : jsonAsText
                ? JSON.stringify(value, null, 2)
                : value;
        } else {
          params[name] = value ?? null;
        }
      }
      return params;
    }

    /** Form values (all strings) to entity data, for editable properties only: nothing else can be set. */
    private parseInput(
      params: Record<string, unknown>,
      options: { isNew: boolean },
    ): Record<string, unknown> {
      const data: Record<string, unknown> = {};
      const errors: Record<string, { message: string; type: string }> = {};
      for (const [name, prop] of this.entityProps) {
        const adminProperty = this.props.get(name);
        if (!adminProperty?.isEditable() || !(name in params)) continue;
        if (prop.primary && !options.isNew) continue;
        const raw = params[name];
        const text = raw === null || raw === undefined ? '' : String(raw);
        if (isJsonProperty(prop)) {
          if (text.trim() === '') {
            if (prop.nullable) data[name] = null;
            continue;
          }
          try {
            data[name] = JSON.parse(text);
          } catch {
            errors[name] = { message: 'must be valid JSON', type: 'json' };
          }
          continue;
        }
        if (text === '') {
          data[name] = null;
          continue;
        }
        switch (adminProperty.type()) {
          case 'boolean':
            data[name] = text === 'true';
            break;
          case 'number': {
            const number = Number(text);
            if (Number.isFinite(number)) data[name] = prop.columnTypes?.[0] === 'bigint' ? text : number;
            else errors[name] = { message: 'must be a number', type: 'number' };
            break;
          }
          case 'datetime':
          case 'date': {
            const date = new Date(text);
            if (Number.isNaN(date.getTime())) errors[name] = { message: 'must be a date', type: 'date' };
            else data[name] = date;
            break;
          }
          case 'reference': {
            const target = prop.targetMeta?.properties[prop.targetMeta.primaryKeys[0]];
            if (isUuidColumn(target) && !UUID.test(text))
              errors[name] = { message: 'is not a valid id', type: 'id' };
            else data[name] = text;
            break;
          }
          default:
            data[name] = text;
        }
      }
      if (Object.keys(errors).length > 0) throw new ValidationError(errors);
      return data;
    }

    /** AdminJS list filters to a MikroORM query; exact matches for ids, references and fixed value lists. */
    private filterToWhere(filter: Filter | undefined): Record<string, unknown> {
      const where: Record<string, unknown> = {};
      for (const element of Object.values(filter?.filters ?? {})) {
        const prop = this.entityProps.get(element.path);
        const adminProperty = this.props.get(element.path);
        if (!prop || !adminProperty || isJsonProperty(prop)) continue;
        const value = element.value;
        if (typeof value !== 'string') {
          const range: Record<string, Date> = {};
          if (value?.from) range.$gte = new Date(value.from);
          if (value?.to) range.$lte = new Date(value.to);
          if (Object.keys(range).length > 0) where[element.path] = range;
          continue;
        }
        const hasFixedValues = !!this.decorate()?.getPropertyByKey(element.path)?.availableValues();
        const type = adminProperty.type();
        if (type === 'boolean') where[element.path] = value === 'true';
        else if (type === 'number') where[element.path] = Number.isFinite(Number(value)) ? value : null;
        else if (type === 'reference' || prop.primary) {
          const target =
            type === 'reference' ? prop.targetMeta?.properties[prop.targetMeta.primaryKeys[0]] : prop;
          // A malformed id matches nothing (instead of a database error about the uuid or integer syntax).
          where[element.path] = isWellFormedKey(target, value) ? value : null;
        } else if (hasFixedValues) where[element.path] = value;
        else where[element.path] = { $ilike: `%${escapeLike(value)}%` };
      }
      return where;
    }
  };
}

export type CrmEntityResourceClass = ReturnType<typeof defineCrmEntityResource>;
export type CrmEntityResource = InstanceType<CrmEntityResourceClass>;
