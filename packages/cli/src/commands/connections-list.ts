// `conduit connections list`: safe fields only (SAFE_CONNECTION_FIELDS), and the owner as its
// pseudonym (the same HMAC the logs use), never the raw id.
import type { ConnectionStatus, ProviderKey } from '@conduit/core';
import { MaintenanceRepository, type SafeConnection } from '@conduit/db';
import type { AppContext } from '@conduit/runtime';
import { EXIT } from '../errors.ts';
import type { Output } from '../output.ts';
import { relativeTime } from '../relative-time.ts';
import { renderTable } from '../table.ts';
import { LIST_LIMIT } from '../limits.ts';

export { LIST_LIMIT };

export interface ConnectionsListOptions {
  status?: ConnectionStatus | undefined;
  provider?: ProviderKey | undefined;
  limit: number;
  json?: boolean | undefined;
}

export type ListedConnection = Omit<SafeConnection, 'ownerId'> & { owner: string };

export async function connectionsListCommand(
  ctx: Pick<AppContext, 'db' | 'hashOwner'>,
  out: Output,
  opts: ConnectionsListOptions,
): Promise<number> {
  const rows = await new MaintenanceRepository(ctx.db).listConnections(opts);
  const listed: ListedConnection[] = rows.map(({ ownerId, ...rest }) => ({
    ...rest,
    owner: ctx.hashOwner(ownerId),
  }));
  if (opts.json) {
    out.json(listed);
    return EXIT.ok;
  }
  if (listed.length === 0) {
    out.line('No connections match.');
    return EXIT.ok;
  }
  const now = new Date();
  out.line(
    renderTable(
      ['id', 'provider', 'status', 'owner', 'access token', 'refresh token', 'reason'],
      listed.map((c) => [
        c.id,
        c.provider,
        c.status,
        c.owner,
        relativeTime(c.tokenExpiresAt, now),
        relativeTime(c.refreshTokenExpiresAt, now),
        c.statusReason,
      ]),
      { width: out.width, shrink: [6] },
    ),
  );
  if (listed.length === opts.limit) {
    out.note(`Showing the newest ${opts.limit}; raise --limit to see more.`);
  }
  return EXIT.ok;
}
