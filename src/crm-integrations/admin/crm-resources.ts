import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import {
  AdminUser,
  AuditLogEntry,
  CONNECTION_HEALTH,
  CONNECTION_STATUSES,
  Contact,
  CrmConnection,
  DEFAULT_CONNECTION_SETTINGS,
  hashPassword,
  normaliseEmail,
  ProviderSetting,
  RecordLink,
  ServiceToken,
  SYNC_LOG_ACTIONS,
  SYNC_RUN_STATUSES,
  SYNC_TRIGGERS,
  SyncCursorState,
  SyncLogEntry,
  SyncRun,
  Tenant,
  type AdminRole,
} from '@pm/domain';
import type {
  Action,
  ActionContext,
  ActionRequest,
  ActionResponse,
  PropertyOptions,
  RecordActionResponse,
  ResourceOptions,
} from 'adminjs';
import { UpdateConnectionSettingsDto } from '../connections/connection.dto';
import type { CrmAdminResolver } from './admin-identity';
import type { AdminJsRuntime } from './adminjs-runtime';
import {
  canAdmin,
  type CrmAdminOperation,
  type CrmEntityResource,
  type CrmResourcePolicy,
} from './crm-entity-resource';

/** The AdminJS navigation groups the plugin's screens live in. */
export const CRM_ADMIN_NAVIGATION = {
  crm: { name: 'CRM Integrations', icon: 'Link' },
  sync: { name: 'Sync', icon: 'RefreshCw' },
  administration: { name: 'Administration', icon: 'Settings' },
} as const;

export interface CrmResourceDefinition {
  policy: CrmResourcePolicy;
  navigation: (typeof CRM_ADMIN_NAVIGATION)[keyof typeof CRM_ADMIN_NAVIGATION];
  /** The resource's name in menus and headings. */
  label: string;
  options: ResourceOptions;
}

const ALL: CrmAdminOperation[] = ['read', 'create', 'edit', 'delete'];
const READ: CrmAdminOperation[] = ['read'];
const EDIT_DELETE: CrmAdminOperation[] = ['read', 'edit', 'delete'];
const ADMIN_ROLES: AdminRole[] = ['superadmin', 'tenant_admin'];
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const values = (list: readonly string[]): PropertyOptions => ({
  availableValues: list.map((value) => ({ value, label: value })),
});
const hiddenInList: PropertyOptions = { isVisible: { list: false, filter: false, show: true, edit: true } };
const readOnlyField: PropertyOptions = { isVisible: { list: true, filter: true, show: true, edit: false } };

function validationError(runtime: AdminJsRuntime, field: string, message: string): Error {
  return new runtime.adminjs.ValidationError({ [field]: { message, type: 'invalid' } });
}

/** The same rules as the API's settings endpoint; missing keys take the defaults, unknown keys are refused. */
async function checkedConnectionSettings(
  value: unknown,
  runtime: AdminJsRuntime,
): Promise<Record<string, unknown>> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw validationError(runtime, 'settings', 'must be a JSON object');
  }
  const errors = await validate(plainToInstance(UpdateConnectionSettingsDto, value), {
    whitelist: true,
    forbidNonWhitelisted: true,
  });
  if (errors.length > 0) {
    const [first] = errors;
    const reason = Object.values(first.constraints ?? {})[0] ?? 'is not allowed';
    throw validationError(runtime, 'settings', `${first.property}: ${reason}`);
  }
  return { ...DEFAULT_CONNECTION_SETTINGS, ...value };
}

/** Every entity of the plugin an admin may see, and what each admin role may do there. */
export const CRM_RESOURCE_DEFINITIONS: CrmResourceDefinition[] = [
  {
    policy: {
      entity: CrmConnection,
      resourceId: 'CrmConnection',
      tenantPath: 'tenant',
      // A connection is created only by the OAuth connect flow (it has credentials or it is not a connection).
      permissions: { superadmin: EDIT_DELETE, tenant_admin: EDIT_DELETE },
      // Set by the OAuth flow and the sync only: the instance URL, provider and account decide where the
      // connection's token is sent, so a form that could change them could send it anywhere.
      systemProperties: [
        'tenant',
        'provider',
        'status',
        'crmAccountId',
        'crmUserId',
        'instanceUrl',
        'connectedAt',
        'disconnectedAt',
        'lastSyncAt',
      ],
      beforeWrite: async ({ data }, runtime) => {
        if ('settings' in data) data.settings = await checkedConnectionSettings(data.settings, runtime);
      },
    },
    navigation: CRM_ADMIN_NAVIGATION.crm,
    label: 'Connections',
    options: {
      titleProperty: 'provider',
      listProperties: ['provider', 'label', 'tenant', 'status', 'health', 'crmAccountName', 'lastSyncAt'],
      editProperties: [
        'label',
        'statusReason',
        'health',
        'healthReason',
        'crmAccountName',
        'settings',
        'nextSyncAt',
      ],
      sort: { sortBy: 'createdAt', direction: 'desc' },
      properties: {
        status: values(CONNECTION_STATUSES),
        health: values(CONNECTION_HEALTH),
        settings: { ...hiddenInList, description: 'JSON: objects, direction, conflictPolicy, frequency, …' },
      },
    },
  },
  {
    policy: {
      entity: Contact,
      resourceId: 'CrmContact',
      tenantPath: 'tenant',
      permissions: { superadmin: ALL, tenant_admin: ALL },
    },
    navigation: CRM_ADMIN_NAVIGATION.crm,
    label: 'Contacts',
    options: {
      titleProperty: 'email',
      listProperties: ['email', 'firstName', 'lastName', 'company', 'tenant', 'updatedAt'],
      sort: { sortBy: 'updatedAt', direction: 'desc' },
      properties: { customFields: hiddenInList },
    },
  },
  {
    policy: {
      entity: ProviderSetting,
      resourceId: 'CrmProviderSetting',
      tenantPath: 'tenant',
      // Enabling a CRM is a platform decision: a tenant admin sees its tenant's switches but cannot flip them.
      permissions: { superadmin: ALL, tenant_admin: READ },
    },
    navigation: CRM_ADMIN_NAVIGATION.crm,
    label: 'Provider settings',
    options: {
      titleProperty: 'provider',
      listProperties: ['provider', 'tenant', 'enabled', 'note', 'updatedAt'],
      editProperties: ['provider', 'tenant', 'enabled', 'note'],
      properties: { tenant: { description: 'Empty: the global switch for every tenant.' } },
    },
  },
  {
    policy: {
      entity: SyncRun,
      resourceId: 'CrmSyncRun',
      tenantPath: 'tenant',
      permissions: { superadmin: READ, tenant_admin: READ },
    },
    navigation: CRM_ADMIN_NAVIGATION.sync,
    label: 'Sync runs',
    options: {
      titleProperty: 'trigger',
      listProperties: ['connection', 'trigger', 'status', 'queuedAt', 'finishedAt', 'error'],
      sort: { sortBy: 'queuedAt', direction: 'desc' },
      properties: {
        status: values(SYNC_RUN_STATUSES),
        trigger: values(SYNC_TRIGGERS),
        counts: hiddenInList,
        drift: hiddenInList,
      },
    },
  },
  {
    policy: {
      entity: SyncLogEntry,
      resourceId: 'CrmSyncLogEntry',
      tenantPath: 'tenant',
      permissions: { superadmin: READ, tenant_admin: READ },
    },
    navigation: CRM_ADMIN_NAVIGATION.sync,
    label: 'Sync log',
    options: {
      titleProperty: 'message',
      listProperties: ['at', 'connection', 'direction', 'object', 'recordKey', 'action', 'message'],
      sort: { sortBy: 'at', direction: 'desc' },
      properties: { action: values(SYNC_LOG_ACTIONS), details: hiddenInList },
    },
  },
  {
    policy: {
      entity: RecordLink,
      resourceId: 'CrmRecordLink',
      tenantPath: 'connection.tenant',
      permissions: { superadmin: READ, tenant_admin: READ },
    },
    navigation: CRM_ADMIN_NAVIGATION.sync,
    label: 'Record links',
    options: {
      titleProperty: 'crmId',
      listProperties: ['connection', 'localObject', 'localId', 'crmObject', 'crmId', 'lastSyncedAt'],
      sort: { sortBy: 'createdAt', direction: 'desc' },
      properties: { synced: hiddenInList },
    },
  },
  {
    policy: {
      entity: SyncCursorState,
      resourceId: 'CrmSyncCursor',
      tenantPath: 'connection.tenant',
      permissions: { superadmin: READ, tenant_admin: READ },
    },
    navigation: CRM_ADMIN_NAVIGATION.sync,
    label: 'Sync cursors',
    options: {
      titleProperty: 'object',
      listProperties: ['connection', 'object', 'direction', 'initialSyncCompletedAt', 'updatedAt'],
    },
  },
  {
    policy: {
      entity: Tenant,
      resourceId: 'CrmTenant',
      tenantPath: 'id',
      primaryKeyEditableOnCreate: true,
      permissions: { superadmin: ALL, tenant_admin: READ },
    },
    navigation: CRM_ADMIN_NAVIGATION.administration,
    label: 'Tenants',
    options: {
      titleProperty: 'name',
      listProperties: ['id', 'name', 'active', 'createdAt'],
      editProperties: ['id', 'name', 'active'],
      sort: { sortBy: 'createdAt', direction: 'desc' },
      properties: { id: { description: 'The PenguinMails workspace id (set once, on creation).' } },
    },
  },
  {
    policy: {
      entity: AdminUser,
      resourceId: 'CrmAdminUser',
      tenantPath: 'tenant',
      permissions: { superadmin: ALL, tenant_admin: ALL },
      beforeWrite: async ({ params, data, identity, isNew, auditNotes }, runtime) => {
        if (typeof data.email === 'string') {
          const email = normaliseEmail(data.email);
          if (!EMAIL.test(email)) throw validationError(runtime, 'email', 'must be an e-mail address');
          data.email = email;
        }
        const password = typeof params.password === 'string' ? params.password : '';
        if (password !== '') {
          if (password.length < 8)
            throw validationError(runtime, 'password', 'must be at least 8 characters');
          data.passwordHash = await hashPassword(password);
          auditNotes.passwordChanged = true;
        } else if (isNew) {
          throw validationError(runtime, 'password', 'is required');
        }
        // A tenant admin can only make more tenant admins of its own tenant: never a superadmin.
        if (identity.tenantId !== null) data.role = 'tenant_admin';
        if ('role' in data || isNew) {
          const role = (data.role ?? 'superadmin') as AdminRole;
          if (!ADMIN_ROLES.includes(role)) throw validationError(runtime, 'role', 'is not a known role');
          if (role === 'tenant_admin' && !data.tenant) {
            throw validationError(runtime, 'tenant', 'is required for a tenant admin');
          }
          // A superadmin belongs to no tenant, so no tenant admin ever has one in its scope.
          if (role === 'superadmin') data.tenant = null;
        }
      },
      // Nobody could manage the platform any more: the last superadmin is neither deleted nor demoted.
      refuseChange: async (em, { kind, row, before }) => {
        const admin = row as AdminUser;
        const staysSuperadmin = kind === 'edit' && admin.role === 'superadmin';
        if (before.role !== 'superadmin' || staysSuperadmin) return null;
        const others = await em.count(AdminUser, { role: 'superadmin', id: { $ne: admin.id } });
        return others === 0 ? 'The last superadmin cannot be removed or demoted.' : null;
      },
    },
    navigation: CRM_ADMIN_NAVIGATION.administration,
    label: 'Admin users',
    options: {
      titleProperty: 'email',
      listProperties: ['email', 'role', 'tenant', 'lastLoginAt', 'createdAt'],
      showProperties: ['id', 'email', 'role', 'tenant', 'createdAt', 'lastLoginAt'],
      editProperties: ['email', 'password', 'role', 'tenant'],
      properties: {
        role: values(ADMIN_ROLES),
        lastLoginAt: readOnlyField,
        // Virtual: hashed into passwordHash (which AdminJS never sees) on save; empty on edit keeps the password.
        password: {
          type: 'password',
          isVisible: { list: false, filter: false, show: false, edit: true },
          description: 'At least 8 characters. Leave empty to keep the current password.',
        },
      },
    },
  },
  {
    policy: {
      entity: ServiceToken,
      resourceId: 'CrmServiceToken',
      tenantPath: 'tenant',
      // Tokens are issued by `npm run token:create` (the secret is shown once, there); here only seen and revoked.
      permissions: { superadmin: ['read', 'delete'], tenant_admin: ['read', 'delete'] },
    },
    navigation: CRM_ADMIN_NAVIGATION.administration,
    label: 'Service tokens',
    options: {
      titleProperty: 'name',
      listProperties: ['name', 'prefix', 'tenant', 'createdAt', 'lastUsedAt', 'revokedAt'],
    },
  },
  {
    policy: {
      entity: AuditLogEntry,
      resourceId: 'CrmAuditLogEntry',
      tenantPath: 'tenantId',
      permissions: { superadmin: READ, tenant_admin: READ },
    },
    navigation: CRM_ADMIN_NAVIGATION.administration,
    label: 'Audit log',
    options: {
      titleProperty: 'action',
      listProperties: ['at', 'actor', 'action', 'targetType', 'targetId', 'tenantId'],
      sort: { sortBy: 'at', direction: 'desc' },
      properties: { before: hiddenInList, after: hiddenInList },
    },
  },
];

/**
 * The AdminJS actions of a resource, each open only to admins its policy allows. The resource enforces the same
 * rules again on every read and write; this only keeps buttons an admin cannot use off the screen.
 */
export function crmResourceActions(
  policy: CrmResourcePolicy,
  resolveAdmin: CrmAdminResolver,
): NonNullable<ResourceOptions['actions']> {
  const allowed =
    (operation: CrmAdminOperation) =>
    ({ currentAdmin }: ActionContext): boolean =>
      canAdmin(resolveAdmin(currentAdmin as Record<string, unknown> | undefined), policy, operation);
  const actions: Record<string, Partial<Action<ActionResponse>>> = {
    list: { isAccessible: allowed('read') },
    show: { isAccessible: allowed('read') },
    search: { isAccessible: allowed('read') },
    new: { isAccessible: allowed('create') },
    edit: { isAccessible: allowed('edit') },
    delete: { isAccessible: allowed('delete') },
    bulkDelete: { isAccessible: allowed('delete') },
  };
  if (policy.entity === AdminUser) {
    // AdminJS echoes the submitted form back in its response; the typed password must not travel back with it.
    const withoutPassword = (response: ActionResponse): ActionResponse => {
      const record = (response as Partial<RecordActionResponse>).record;
      if (record?.params) delete record.params.password;
      return response;
    };
    actions.new = { ...actions.new, after: withoutPassword };
    actions.edit = { ...actions.edit, after: withoutPassword };
  }
  if (policy.entity === ServiceToken) {
    // Deleting a token revokes it too, but revoking keeps the row: who had a token and when it stopped working.
    actions.revoke = {
      actionType: 'record',
      icon: 'Slash',
      component: false,
      guard: 'Revoke this token? Calls made with it will be refused from now on.',
      isAccessible: (context: ActionContext) =>
        allowed('delete')(context) && !context.record?.param('revokedAt'),
      handler: async (request: ActionRequest, _response: ActionResponse, context: ActionContext) => {
        const resource = context.resource as unknown as CrmEntityResource;
        const recordId = context.record?.id() ?? '';
        // State changes only on POST (CSRF-checked): a GET, e.g. a link on another site, only shows the token.
        if (request.method !== 'post') return { record: context.record?.toJSON(context.currentAdmin) };
        await resource.change(recordId, context, 'delete', 'revoked', (_em, row) => {
          (row as ServiceToken).revokedAt = new Date();
        });
        const updated = await resource.findOne(recordId, context);
        return {
          record: updated?.toJSON(context.currentAdmin),
          notice: { message: 'Token revoked', type: 'success' },
        };
      },
    };
  }
  return actions;
}
