// `conduit connections get <id>`: one connection's safe fields, as sentences an operator reads
// (relative times, exact UTC beside them), or --json. Never a token; the owner as its hash.
import { SAFE_CONNECTION_FIELDS } from '@conduit/db';
import type { AppContext } from '@conduit/runtime';
import { CliError, EXIT } from '../errors.ts';
import type { Output } from '../output.ts';
import { relativeTime } from '../relative-time.ts';

export async function connectionsGetCommand(
  ctx: Pick<AppContext, 'db' | 'hashOwner'>,
  out: Output,
  connectionId: string,
  opts: { json?: boolean | undefined },
): Promise<number> {
  const conn = await ctx.db.connection.findUnique({
    where: { id: connectionId },
    select: { ...SAFE_CONNECTION_FIELDS, refreshTokenEnc: true },
  });
  if (!conn) throw new CliError(`no connection has id ${connectionId}.`);
  const { ownerId, refreshTokenEnc, ...safe } = conn;
  const shown = { ...safe, owner: ctx.hashOwner(ownerId), hasRefreshToken: refreshTokenEnc !== null };
  if (opts.json) {
    out.json(shown);
    return EXIT.ok;
  }
  const now = new Date();
  const at = (d: Date | null) => (d ? `${relativeTime(d, now)} (${d.toISOString()})` : '—');
  const rows: Array<[string, string]> = [
    ['id', shown.id],
    ['provider', shown.provider],
    [
      'status',
      `${shown.status}${shown.statusReason ? ` — ${shown.statusReason}` : ''}, since ${at(shown.statusChangedAt)}`,
    ],
    ['owner (hashed)', shown.owner],
    ['account', [shown.externalAccountId, shown.externalEmail].filter(Boolean).join(' · ') || '—'],
    ['access token expires', at(shown.tokenExpiresAt)],
    ['refresh token', shown.hasRefreshToken ? `present, expires ${at(shown.refreshTokenExpiresAt)}` : 'none'],
    ['scopes', shown.scopes.join(' ') || '—'],
    [
      'last refresh',
      `${at(shown.lastRefreshAt)}${shown.lastRefreshError ? ` — ${shown.lastRefreshError}` : ''}`,
    ],
    ['last sync', `${at(shown.lastSyncAt)}${shown.lastSyncError ? ` — ${shown.lastSyncError}` : ''}`],
    ['failures in a row', String(shown.failureCount)],
    ['created', at(shown.createdAt)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) out.line(`${k.padEnd(w)}  ${v}`);
  return EXIT.ok;
}
