// `conduit disconnect <id> --yes`: what the user's own "disconnect" does (DELETE
// /v1/connections/:id): tokens wiped, status `disconnected` with its event. Asks for --yes,
// since the user must go through the provider's consent again to come back.
import { disconnectConnection } from '@conduit/db';
import type { AppContext } from '@conduit/runtime';
import { CliError, EXIT, usageError } from '../errors.ts';
import type { Output } from '../output.ts';

export async function disconnectCommand(
  ctx: Pick<AppContext, 'db' | 'hashOwner' | 'logger'>,
  out: Output,
  connectionId: string,
  opts: { yes?: boolean | undefined },
): Promise<number> {
  if (!opts.yes) {
    throw usageError(
      `disconnecting ${connectionId} wipes its tokens and the user must connect again; run it again with --yes to do it.`,
    );
  }
  const before = await ctx.db.connection.findUnique({
    where: { id: connectionId },
    select: { status: true },
  });
  const conn = await disconnectConnection(ctx.db, connectionId, new Date());
  if (!conn || !before) throw new CliError(`no connection has id ${connectionId}.`);
  ctx.logger.info(
    { connectionId, provider: conn.provider, owner: ctx.hashOwner(conn.ownerId) },
    'connection: disconnected by an operator',
  );
  out.line(
    before.status === 'disconnected'
      ? `Connection ${connectionId} (${conn.provider}) was already disconnected.`
      : `Connection ${connectionId} (${conn.provider}) is disconnected (was ${before.status}); its tokens are wiped.`,
  );
  return EXIT.ok;
}
