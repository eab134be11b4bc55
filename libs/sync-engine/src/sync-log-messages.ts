/** Short CRM names for log lines, as the seed shows them ("→ SF"). */
const SHORT_NAMES: Readonly<Record<string, string>> = {
  salesforce: 'SF',
  hubspot: 'HubSpot',
  pipedrive: 'Pipedrive',
  zoho: 'Zoho',
  close: 'Close',
};

export function crmShortName(provider: string, displayName?: string): string {
  return SHORT_NAMES[provider] ?? displayName ?? provider;
}

export const syncedToCrm = (key: string, crm: string): string => `Contact synced: ${key} → ${crm}`;
export const syncedFromCrm = (key: string, crm: string): string => `Contact synced: ${key} ← ${crm}`;
