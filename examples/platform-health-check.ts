// Seed example 3, rewritten: for one user, is each connected platform usable right now? Reads
// every connection's safe view, then tries to get a token; what fails says what to do.
import { ConduitError, NeedsReauthError, type ConduitClient, type Provider } from '@conduit/client';

export interface PlatformHealth {
  provider: Provider;
  status: string;
  usable: boolean;
  /** what to do when not usable */
  action: 'none' | 'reconnect' | 'contact_support' | 'retry_later';
  tokenExpiresAt: string | null;
}

export async function platformHealth(conduit: ConduitClient, ownerId: string): Promise<PlatformHealth[]> {
  const connections = await conduit.listConnections({ ownerId });
  return Promise.all(
    connections.map(async (c): Promise<PlatformHealth> => {
      const base = { provider: c.provider, status: c.status, tokenExpiresAt: c.tokenExpiresAt };
      try {
        const token = await conduit.getAccessToken(c.id);
        return {
          ...base,
          usable: true,
          action: 'none',
          tokenExpiresAt: token.expiresAt?.toISOString() ?? null,
        };
      } catch (err) {
        if (err instanceof NeedsReauthError) return { ...base, usable: false, action: 'reconnect' };
        if (err instanceof ConduitError && err.code === 'connection_error')
          return { ...base, usable: false, action: 'contact_support' };
        if (err instanceof ConduitError && err.code === 'unavailable')
          return { ...base, usable: false, action: 'retry_later' };
        throw err;
      }
    }),
  );
}
