// Builds the token service the token routes and the proxy share, from the app context.
import { ConnectionLookup } from '@conduit/db';
import { createAccessTokens, createRefreshDeps, createTokenClient, type AppContext } from '@conduit/runtime';
import type { ApiMetrics } from '../metrics.ts';
import { ForcedRefreshWindow } from './forced-refresh-window.ts';
import { createTokenReadCounter, type TokenReadCounter } from './token-metrics.ts';
import { TokenService } from './token-service.ts';

export interface Tokens {
  service: TokenService;
  reads: TokenReadCounter;
  close(): Promise<void>;
}

export function createTokens(ctx: AppContext, metrics: ApiMetrics): Tokens {
  const client = createTokenClient(ctx.config);
  const deps = createRefreshDeps(ctx, client, metrics.refreshObserver);
  const service = new TokenService({
    accessTokens: createAccessTokens(deps),
    lookup: new ConnectionLookup(ctx.db),
    vault: ctx.vault,
    window: new ForcedRefreshWindow({
      redis: ctx.redis,
      keyPrefix: `${ctx.config.redis.queuePrefix}:force-refresh`,
      windowMs: ctx.config.integration.forceRefreshWindowSeconds * 1000,
    }),
    maxWaitMs: ctx.config.timings.lockTtlMs,
  });
  return { service, reads: createTokenReadCounter(metrics.conduit.registry), close: () => client.close() };
}
