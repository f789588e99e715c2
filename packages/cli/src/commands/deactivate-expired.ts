// `conduit deactivate-expired`: connections that can no longer refresh (refresh token past its
// expiry, or no way to refresh and the access token expired) move to needs_reauth, each with
// its event and a connection.needs_reauth notification, under the connection's refresh lock so
// a refresh in flight is never cut off. --dry-run lists them and changes nothing.
import { PROVIDER_KEYS, type ProviderKey, providerSpec } from '@conduit/core';
import {
  ConnectionLeases,
  MaintenanceRepository,
  notificationPayload,
  type LapsedCandidate,
} from '@conduit/db';
import { RefreshLease } from '@conduit/jobs';
import type { AppContext } from '@conduit/runtime';
import { EXIT } from '../errors.ts';
import type { Output } from '../output.ts';
import { ensureRedis } from '../reachability.ts';
import { renderTable } from '../table.ts';
import { reauthNoticeKey } from './notify-reauth.ts';

const BATCH = 500;
const NON_REFRESHING: readonly ProviderKey[] = PROVIDER_KEYS.filter(
  (p) => providerSpec(p).refresh.kind === 'none',
);

export interface DeactivateReport {
  dryRun: boolean;
  /** moved to needs_reauth (or, in a dry run, would be) */
  lapsed: Array<{ id: string; provider: ProviderKey; owner: string; why: string }>;
  /** left alone: a refresh held the lock, or the row changed since it was read */
  skipped: Array<{ id: string; why: string }>;
}

/** Why the connection can no longer refresh, or null if it still can. */
export function lapseOf(
  c: Pick<LapsedCandidate, 'provider' | 'tokenExpiresAt' | 'refreshTokenExpiresAt' | 'hasRefreshToken'>,
  now: Date,
): string | null {
  if (c.refreshTokenExpiresAt && c.refreshTokenExpiresAt < now) {
    return `refresh token expired at ${c.refreshTokenExpiresAt.toISOString()}`;
  }
  const cannotRefresh = !c.hasRefreshToken || NON_REFRESHING.includes(c.provider);
  if (cannotRefresh && c.tokenExpiresAt && c.tokenExpiresAt < now) {
    return `access token expired at ${c.tokenExpiresAt.toISOString()} and there is no refresh token`;
  }
  return null;
}

export async function deactivateExpired(
  ctx: Pick<AppContext, 'db' | 'connections' | 'redis' | 'config' | 'hashOwner' | 'logger'>,
  opts: { dryRun: boolean; now?: Date },
): Promise<DeactivateReport> {
  const now = opts.now ?? new Date();
  const repo = new MaintenanceRepository(ctx.db);
  const leases = new ConnectionLeases(ctx.db);
  const report: DeactivateReport = { dryRun: opts.dryRun, lapsed: [], skipped: [] };
  if (!opts.dryRun) await ensureRedis(ctx);
  let after: string | undefined;
  for (;;) {
    const batch = await repo.listLapsed({ now, nonRefreshingProviders: NON_REFRESHING, after, limit: BATCH });
    for (const c of batch) {
      const why = lapseOf(c, now) ?? 'lapsed';
      const listed = { id: c.id, provider: c.provider, owner: ctx.hashOwner(c.ownerId), why };
      if (opts.dryRun) {
        report.lapsed.push(listed);
        continue;
      }
      // The refresh lease, so no refresh runs while this decides; taking it re-reads the row,
      // and a refresh that just finished may have renewed the connection.
      const taken = await RefreshLease.take(leases, c.id, ctx.config.timings.lockTtlMs, ctx.logger);
      if (taken.kind !== 'taken') {
        report.skipped.push({
          id: c.id,
          why: taken.kind === 'held' ? 'a refresh holds its lease right now' : 'it was deleted meanwhile',
        });
        continue;
      }
      const { lease, row: conn } = taken;
      try {
        const still =
          conn && (conn.status === 'connected' || conn.status === 'token_expired')
            ? lapseOf({ ...conn, hasRefreshToken: conn.refreshTokenEnc !== null }, now)
            : null;
        if (!conn || still === null) {
          report.skipped.push({ id: c.id, why: 'it changed since it was read and no longer qualifies' });
          continue;
        }
        const changed = await ctx.connections.changeStatus(
          conn,
          'needs_reauth',
          { kind: 'refresh_token_lapsed' },
          now,
          {
            notify: [
              {
                type: 'connection.needs_reauth',
                payload: notificationPayload(conn, { reason: 'refresh_token_lapsed', detail: still }),
                // The key notify-reauth would use, so running it afterwards adds no second notice.
                dedupeKey: reauthNoticeKey(conn.id, now, 0),
              },
            ],
          },
        );
        if (changed) report.lapsed.push({ ...listed, why: still });
        else report.skipped.push({ id: c.id, why: 'it changed since it was read (compare-and-set lost)' });
      } finally {
        await lease.release();
      }
    }
    if (batch.length < BATCH) break;
    after = batch[batch.length - 1]!.id;
  }
  return report;
}

export async function deactivateExpiredCommand(
  ctx: Pick<AppContext, 'db' | 'connections' | 'redis' | 'config' | 'hashOwner' | 'logger'>,
  out: Output,
  opts: { dryRun?: boolean },
): Promise<number> {
  const report = await deactivateExpired(ctx, { dryRun: opts.dryRun === true });
  const n = report.lapsed.length;
  if (n > 0) {
    out.line(
      renderTable(
        ['connection', 'provider', 'owner', 'why'],
        report.lapsed.map((l) => [l.id, l.provider, l.owner, l.why]),
      ),
    );
    out.line();
  }
  if (report.dryRun) {
    out.line(
      `Dry run: ${n} connection${n === 1 ? '' : 's'} would move to needs_reauth; nothing was changed.`,
    );
  } else {
    out.line(
      `Moved ${n} connection${n === 1 ? '' : 's'} to needs_reauth, each with its event and a connection.needs_reauth notification.`,
    );
  }
  const owners = [...new Set(report.lapsed.map((l) => `${l.owner} (${l.provider})`))];
  if (owners.length > 0) {
    out.line(`Owners who must reconnect (hashed): ${owners.join(', ')}.`);
  }
  for (const s of report.skipped)
    out.note(`Skipped connection ${s.id}: ${s.why}; run the command again later.`);
  return report.skipped.length > 0 ? EXIT.failure : EXIT.ok;
}
