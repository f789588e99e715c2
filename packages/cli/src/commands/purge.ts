// `conduit purge <id> --yes`: deletes a disconnected connection's synced data now, as the
// retention sweep does after CONDUIT_DISCONNECTED_RETENTION_DAYS: meetings and their transcripts,
// webhook deliveries, the provider webhook and the account's email. The connection row and its
// status events stay, as the audit.
import { purgeConnectionData } from '@conduit/db';
import type { AppContext } from '@conduit/runtime';
import { CliError, EXIT, usageError } from '../errors.ts';
import type { Output } from '../output.ts';

export async function purgeCommand(
  ctx: Pick<AppContext, 'db' | 'logger'>,
  out: Output,
  connectionId: string,
  opts: { yes?: boolean | undefined; json?: boolean | undefined },
): Promise<number> {
  if (!opts.yes) {
    throw usageError(
      `purging ${connectionId} deletes its meetings, transcripts and webhook deliveries for good; run it again with --yes to do it.`,
    );
  }
  const result = await purgeConnectionData(ctx.db, connectionId, new Date());
  switch (result.kind) {
    case 'not_found':
      throw new CliError(`no connection has id ${connectionId}.`);
    case 'not_disconnected':
      throw new CliError(
        `connection ${connectionId} is ${result.status}, and only a disconnected connection is purged; disconnect it first (conduit disconnect ${connectionId} --yes).`,
      );
    case 'purged': {
      const c = result.counts;
      ctx.logger.info({ connectionId, ...c }, 'connection: purged by an operator');
      if (opts.json) {
        out.line(JSON.stringify({ connectionId, purgedAt: result.purgedAt, ...c }));
      } else {
        out.line(
          `Connection ${connectionId} is purged: ${c.meetings} meetings, ${c.transcripts} transcripts, ${c.webhookDeliveries} webhook deliveries and ${c.webhooks} webhooks deleted; its status history is kept.`,
        );
      }
      return EXIT.ok;
    }
  }
}
