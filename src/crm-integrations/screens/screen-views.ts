import {
  CONFLICT_POLICIES,
  SYNC_DIRECTIONS,
  SYNC_FREQUENCIES,
  type ConnectionSettings,
  type CrmConnection,
} from '@pm/domain';
import type { ConnectorCapabilities } from '@pm/integration-port';
import type { LogLineView, RunView, TodayCounts } from './sync-activity.service';

/** CRMs the seed names as next, shown as "Coming soon" until a connector exists. */
export const COMING_SOON = ['Zoho', 'Close'];

/** A connection as the screens show it: never a credential, never where its token goes. */
export interface ConnectionView {
  id: string;
  tenantId: string;
  provider: string;
  displayName: string;
  label: string | null;
  status: string;
  statusReason: string | null;
  health: string;
  healthReason: string | null;
  crmAccountName: string | null;
  connectedAt: string | null;
  lastSyncAt: string | null;
  nextSyncAt: string | null;
  frequency: string;
}

export function connectionView(connection: CrmConnection, displayName: string): ConnectionView {
  const iso = (date?: Date | null) => (date ? date.toISOString() : null);
  return {
    id: connection.id,
    tenantId: connection.tenant.id,
    provider: connection.provider,
    displayName,
    label: connection.label ?? null,
    status: connection.status,
    statusReason: connection.statusReason ?? null,
    health: connection.health,
    healthReason: connection.healthReason ?? null,
    crmAccountName: connection.crmAccountName ?? null,
    connectedAt: iso(connection.connectedAt),
    lastSyncAt: iso(connection.lastSyncAt),
    nextSyncAt: iso(connection.nextSyncAt),
    frequency: connection.settings.frequency,
  };
}

export interface Choice {
  value: string;
  label: string;
}

/** What the Configuration page offers: only the objects the CRM supports, and every setting's labelled values. */
export interface SettingsChoices {
  objects: { name: string; label: string }[];
  directions: Choice[];
  conflictPolicies: Choice[];
  frequencies: Choice[];
}

const DIRECTION_LABELS: Record<string, (crm: string) => string> = {
  bidirectional: () => 'Bi-directional',
  to_crm: (crm) => `PenguinMails → ${crm} only`,
  from_crm: (crm) => `${crm} → PenguinMails only`,
};
const CONFLICT_LABELS: Record<string, (crm: string) => string> = {
  crm_wins: (crm) => `${crm} wins`,
  penguinmails_wins: () => 'PenguinMails wins',
  most_recent: () => 'Most recent wins',
};
const FREQUENCY_LABELS: Record<string, string> = {
  every_5_minutes: 'Every 5 minutes',
  every_15_minutes: 'Every 15 minutes',
  hourly: 'Hourly',
  daily: 'Daily',
  manual: 'Manual only',
};

export function settingsChoices(capabilities: ConnectorCapabilities | null): SettingsChoices {
  const crm = capabilities?.displayName ?? 'the CRM';
  return {
    // Records sync for contact-like and company objects; activities are logged, not synced.
    objects: (capabilities?.objects ?? [])
      .filter((object) => object.role === 'contact' || object.role === 'company')
      .map((object) => ({ name: object.name, label: object.label ?? object.name })),
    directions: SYNC_DIRECTIONS.map((value) => ({ value, label: DIRECTION_LABELS[value](crm) })),
    conflictPolicies: CONFLICT_POLICIES.map((value) => ({ value, label: CONFLICT_LABELS[value](crm) })),
    frequencies: SYNC_FREQUENCIES.map((value) => ({ value, label: FREQUENCY_LABELS[value] })),
  };
}

/** Save Settings' errors, by field name: shown beside that field. */
export type SettingsErrors = Record<string, string>;

export interface HomeView {
  allTenants: boolean;
  canChange: boolean;
  tenants: {
    id: string;
    name: string;
    connections: (ConnectionView & { today: TodayCounts })[];
  }[];
  recentErrors: LogLineView[];
}

export interface ConnectView {
  tenants: { id: string; name: string }[];
  tenantId: string | null;
  canChange: boolean;
  cards: { provider: string; displayName: string; enabled: boolean; connections: ConnectionView[] }[];
  comingSoon: string[];
}

export interface ConfigurationView {
  connection: ConnectionView;
  settings: ConnectionSettings;
  choices: SettingsChoices;
  lastRun: RunView | null;
  canChange: boolean;
}

export interface AdminControlsView {
  canSwitchProviders: boolean;
  canChange: boolean;
  providers: {
    provider: string;
    displayName: string;
    /** null: no switch (enabled). */
    global: boolean | null;
    tenants: { tenantId: string; enabled: boolean | null }[];
  }[];
  connections: ConnectionView[];
  errors: LogLineView[];
  frequencies: Choice[];
}
