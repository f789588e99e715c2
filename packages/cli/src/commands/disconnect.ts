// `conduit disconnect <id> --yes`: what the user's own "disconnect" does (DELETE
// /v1/connections/:id): tokens wiped, status `disconnected` with its event, and the grant revoked
// at the provider where it offers revocation (attempted here once; the worker retries a failure).
// Asks for --yes, since the user must go through the provider's consent again to come back.
import { disconnectConnection } from '@conduit/db';
import { createGrantRevocations, type AppContext } from '@conduit/runtime';
import { CliError, EXIT, usageError } from '../errors.ts';
import type { Output } from '../output.ts';

export async function disconnectCommand(
  ctx: Pick<AppContext, 'db' | 'hashOwner' | 'logger' | 'config' | 'vault'>,
  out: Output,
  connectionId: string,
  opts: { yes?: boolean | undefined },
): Promise<number> {
  if (!opts.yes) {
    throw usageError(
      `disconnecting ${connectionId} wipes its tokens and the user must connect again; run it again with --yes to do it.`,
    );
  }
  const done = await disconnectConnection(ctx.db, connectionId, new Date());
  if (!done) throw new CliError(`no connection has id ${connectionId}.`);
  const { connection: conn } = done;
  if (done.previousStatus === 'disconnected') {
    out.line(`Connection ${connectionId} (${conn.provider}) was already disconnected.`);
    return EXIT.ok;
  }
  ctx.logger.info(
    { connectionId, provider: conn.provider, owner: ctx.hashOwner(conn.ownerId) },
    'connection: disconnected by an operator',
  );
  let revoked = '';
  if (done.revocationId !== null) {
    const revocations = createGrantRevocations(ctx);
    try {
      const result = await revocations.drain.attempt(done.revocationId);
      revoked =
        result === 'revoked'
          ? `; the grant is revoked at ${conn.provider}`
          : result === 'retry' || result === null
            ? `; ${conn.provider} did not revoke the grant yet, the worker tries again`
            : `; the grant could not be revoked at ${conn.provider} (see the log)`;
    } finally {
      await revocations.close();
    }
  }
  out.line(
    `Connection ${connectionId} (${conn.provider}) is disconnected (was ${done.previousStatus}); its tokens are wiped${revoked}.`,
  );
  return EXIT.ok;
}
