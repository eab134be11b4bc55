import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import {
  AdminUser,
  AuditLogEntry,
  Company,
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
import type { PropertyOptions, ResourceOptions } from 'adminjs';
import { UpdateConnectionSettingsDto } from '../connections/connection.dto';
import type { AdminJsRuntime } from './adminjs-runtime';
import type { CrmAdminOperation, CrmResourcePolicy } from './crm-resource-policy';

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
const EDIT: CrmAdminOperation[] = ['read', 'edit'];
const ADMIN_ROLES: AdminRole[] = ['superadmin', 'tenant_admin', 'viewer'];
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
      // A connection is created only by the OAuth connect flow (it has credentials or it is not a connection), and
      // ends only by Disconnect on the Configuration page, which revokes its token at the CRM first.
      permissions: { superadmin: EDIT, tenant_admin: EDIT },
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
        'nextSyncAt',
        'statusReason',
        'health',
        'healthReason',
        'crmAccountName',
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
      // Settings have their own form on the Configuration page; here only the label and the raw settings.
      editProperties: ['label', 'settings'],
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
      entity: Company,
      resourceId: 'CrmCompany',
      tenantPath: 'tenant',
      permissions: { superadmin: ALL, tenant_admin: ALL },
    },
    navigation: CRM_ADMIN_NAVIGATION.crm,
    label: 'Companies',
    options: {
      titleProperty: 'name',
      listProperties: ['name', 'domain', 'tenant', 'updatedAt'],
      // The keys are derived from the name and domain when saved.
      editProperties: ['tenant', 'name', 'domain'],
      sort: { sortBy: 'updatedAt', direction: 'desc' },
      properties: { key: hiddenInList, nameKey: hiddenInList },
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
        // A tenant admin can only make tenant admins or viewers of its own tenant: never a superadmin.
        if (identity.tenantId !== null && data.role !== 'viewer') data.role = 'tenant_admin';
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
      listProperties: ['name', 'prefix', 'tenant', 'createdAt', 'expiresAt', 'lastUsedAt', 'revokedAt'],
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
