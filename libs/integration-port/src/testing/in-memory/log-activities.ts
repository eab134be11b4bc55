import { CrmError } from '../../errors';
import type { ActivityInput, ActivityResult } from '../../types';
import type { InMemoryCrm } from './in-memory-crm';

/** Logs each activity on its own, with the CRM's own message for one it refuses. */
export function logActivities(crm: InMemoryCrm, activities: ActivityInput[]): ActivityResult[] {
  return activities.map((activity): ActivityResult => {
    try {
      return { key: activity.key, ok: true, crmId: crm.logActivity(activity).crmId };
    } catch (error) {
      if (error instanceof CrmError) {
        return {
          key: activity.key,
          ok: false,
          error: { code: error.code, message: error.message, crmCode: error.crmCode },
        };
      }
      throw error;
    }
  });
}
