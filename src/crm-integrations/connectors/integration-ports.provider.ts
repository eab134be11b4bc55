import type { Provider } from '@nestjs/common';
import { INTEGRATION_PORTS, IntegrationPortRegistry } from '@pm/integration-port';
import { CRM_INTEGRATIONS_OPTIONS, type CrmIntegrationsOptions } from '../crm-integrations.options';

/** Binds the host's explicit provider → connector map and the registry that chooses from it. */
export const integrationPortProviders: Provider[] = [
  {
    provide: INTEGRATION_PORTS,
    inject: [CRM_INTEGRATIONS_OPTIONS],
    useFactory: (options: CrmIntegrationsOptions) => Object.freeze({ ...(options.connectors ?? {}) }),
  },
  IntegrationPortRegistry,
];
