// `conduit sync <connectionId>`: queues a sync of one connection now, in its provider's sync
// lane. Deduplicated like every sync: one already waiting is returned, not queued twice.
import { syncedProviders, enqueueSync, syncLaneOf, type SyncJobData } from '@conduit/jobs';
import type { AppContext } from '@conduit/runtime';
import { CliError, EXIT } from '../errors.ts';
import type { Output } from '../output.ts';
import { ensureRedis } from '../reachability.ts';
import { SYNC_LIMIT } from '../limits.ts';
import { followSync } from './sync-follow.ts';

export { SYNC_LIMIT };

export async function syncCommand(
  ctx: Pick<AppContext, 'connections' | 'queues' | 'redis' | 'config' | 'db'>,
  out: Output,
  connectionId: string,
  opts: {
    full?: boolean | undefined;
    limit?: number | undefined;
    /** follow the job until it ends, with progress (the default for --full) */
    follow?: boolean | undefined;
    pollMs?: number | undefined;
  },
): Promise<number> {
  const { limit } = opts;
  await ensureRedis(ctx);
  const routing = await ctx.connections.routingOf(connectionId);
  if (!routing) throw new CliError(`no connection has id ${connectionId}.`);
  if (syncLaneOf(routing.provider) === undefined) {
    throw new CliError(
      `connection ${connectionId} is a ${routing.provider} connection; only ${syncedProviders().join(', ')} connections sync.`,
    );
  }
  const data: SyncJobData = {
    connectionId,
    mode: opts.full ? 'full' : 'incremental',
    ...(limit !== undefined && { limit }),
    reason: 'manual',
  };
  const { jobId, deduplicated } = await enqueueSync(ctx.queues, routing.provider, data);
  if (deduplicated) {
    out.line(
      `A sync of connection ${connectionId} is already queued as job ${jobId}; it was not queued again.`,
    );
  } else {
    out.line(
      `Queued ${data.mode} sync job ${jobId} for connection ${connectionId}${limit !== undefined ? ` (at most ${limit} meetings)` : ''}.`,
    );
  }
  if (opts.follow) {
    return followSync(ctx, out, routing.provider, jobId, connectionId, {
      pollMs: opts.pollMs ?? 500,
      limit,
    });
  }
  return EXIT.ok;
}
