import type { FactoryProvider } from '@nestjs/common';
import type { SessionProvider } from '@pm/sync-engine';
import { TokenVault } from '../vault/token-vault';
import { SYNC_SESSION_PROVIDER } from './sync.tokens';

/** The engine's sessions come from the token vault, which refreshes under its per-connection lock. */
export const vaultSessionProvider: FactoryProvider<SessionProvider> = {
  provide: SYNC_SESSION_PROVIDER,
  inject: [TokenVault],
  useFactory: (vault: TokenVault): SessionProvider => ({
    getSession: (connectionId) => vault.session(connectionId),
    refreshSession: (connectionId, staleAccessToken) => vault.refresh(connectionId, staleAccessToken),
  }),
};
