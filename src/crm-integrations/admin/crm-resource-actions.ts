import { AdminUser, ServiceToken } from '@pm/domain';
import type {
  Action,
  ActionContext,
  ActionRequest,
  ActionResponse,
  RecordActionResponse,
  ResourceOptions,
} from 'adminjs';
import type { CrmAdminResolver } from './admin-identity';
import type { CrmEntityResource } from './crm-entity-resource';
import { canAdmin, type CrmAdminOperation, type CrmResourcePolicy } from './crm-resource-policy';

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
