import { Inject, Injectable } from '@nestjs/common';
import { CrmError, CrmErrorCode } from './errors';
import { INTEGRATION_PORTS, IntegrationPort, IntegrationPortMap } from './integration-port';
import type { ProviderId } from './types';

/** Chooses the connector for a connection's provider from the explicit map bound by the app. */
@Injectable()
export class IntegrationPortRegistry {
  constructor(@Inject(INTEGRATION_PORTS) private readonly ports: IntegrationPortMap) {}

  providers(): ProviderId[] {
    return Object.keys(this.ports);
  }

  has(provider: ProviderId): boolean {
    return Object.prototype.hasOwnProperty.call(this.ports, provider);
  }

  get(provider: ProviderId): IntegrationPort {
    if (!this.has(provider)) {
      throw new CrmError(CrmErrorCode.NOT_FOUND, `No connector is installed for provider "${provider}"`);
    }
    return this.ports[provider];
  }
}
