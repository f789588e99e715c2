// `conduit refresh <connectionId>`: one refresh now, inline, through the same path the workers
// run (refreshConnection: provider gate, connection lock, compare-and-set, classification).
import { refreshConnection, type RefreshResult } from '@conduit/jobs';
import { createRefreshDeps, createTokenClient, type AppContext } from '@conduit/runtime';
import { CliError, EXIT } from '../errors.ts';
import type { Output } from '../output.ts';
import { ensureRedis } from '../reachability.ts';
import { relativeTime } from '../relative-time.ts';

export async function refreshCommand(ctx: AppContext, out: Output, connectionId: string): Promise<number> {
  await ensureRedis(ctx);
  const tokens = createTokenClient(ctx.config);
  try {
    const result = await refreshConnection(createRefreshDeps(ctx, tokens), {
      connectionId,
      reason: 'manual',
    });
    if (result.kind === 'skipped' && result.reason === 'not_found') {
      throw new CliError(`no connection has id ${connectionId}.`);
    }
    const detail = await describe(ctx, connectionId, result);
    if (result.kind === 'refreshed' || result.kind === 'fresh') {
      out.line(detail);
      return EXIT.ok;
    }
    out.error(detail);
    return EXIT.failure;
  } finally {
    await tokens.close();
  }
}

async function describe(ctx: AppContext, id: string, result: RefreshResult): Promise<string> {
  const seconds = (ms: number) => `${Math.ceil(ms / 1000)} s`;
  switch (result.kind) {
    case 'refreshed':
      return `Refreshed connection ${id}; the new access token ${
        result.accessTokenExpiresAt
          ? `expires ${relativeTime(result.accessTokenExpiresAt)} (${result.accessTokenExpiresAt.toISOString()})`
          : 'does not expire'
      }.`;
    case 'fresh':
      return `Connection ${id} was refreshed by another process meanwhile; nothing to do.`;
    case 'rescued':
      return `Connection ${id} had new tokens waiting from a refresh whose process died before storing them; they are stored now (nothing was sent to the provider).`;
    case 'failed':
      return `refreshing connection ${id} failed: ${result.error.message}`;
    case 'busy':
      return `connection ${id} is being refreshed by another process right now; try again in a moment.`;
    case 'gated':
      return `the provider's refresh lane is paused for another ${seconds(result.delayMs)} (a rate limit, or rejected client credentials); try again later.`;
    case 'rate_limited':
      return `the provider rate-limited the refresh of connection ${id}; its lane waits ${seconds(result.delayMs)} before trying again.`;
    case 'skipped': {
      if (result.reason === 'no_refresh_token') {
        return `connection ${id} has no refresh token to use (its tokens do not expire, or the provider never sent one).`;
      }
      const row = await ctx.connections.findById(id);
      return `connection ${id} is ${row?.status ?? 'gone'}; only connected and token_expired connections refresh${
        row?.status === 'needs_reauth' ? ', so the user must reconnect' : ''
      }.`;
    }
    case 'lost_race':
      return `connection ${id} was refreshed, but a newer write won the compare-and-set; its stored tokens are the newer ones.`;
    case 'retry':
    case 'gave_up': {
      const row = await ctx.connections.findById(id);
      return `the refresh of connection ${id} failed transiently (${row?.lastRefreshError ?? 'no detail'}); the refresh sweep will try again.`;
    }
    case 'marked':
      return `the provider refused the refresh, so connection ${id} is now ${result.status}: ${result.reason}.`;
  }
}
