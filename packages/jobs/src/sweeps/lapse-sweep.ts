// Refresh tokens that would lapse within the window (default 7 days): where refreshing extends
// their life (Google's inactivity rule, GitHub Apps), exercise them now; where it cannot
// (Spotify: six months from consent), warn the embedding app once so the user can reconnect.
import { refreshExtendsLifetime, providerSpec } from '@conduit/core';
import { notificationPayload, type ConnectionRepository } from '@conduit/db';
import type { Queues } from '../queues.ts';

export interface LapseSweepReport {
  exercised: number;
  warned: number;
}

export async function runLapseSweep(
  deps: { connections: ConnectionRepository; queues: Queues },
  settings: { windowMs: number; batchSize: number },
  now: Date = new Date(),
): Promise<LapseSweepReport> {
  const before = new Date(now.getTime() + settings.windowMs);
  const report: LapseSweepReport = { exercised: 0, warned: 0 };
  for (const status of ['connected', 'token_expired'] as const) {
    let after: { refreshTokenExpiresAt: Date; id: string } | undefined;
    for (;;) {
      const rows = await deps.connections.listRefreshTokensLapsing({
        status,
        before,
        after,
        limit: settings.batchSize,
      });
      if (rows.length === 0) break;
      const exercise = rows.filter((r) => refreshExtendsLifetime(providerSpec(r.provider)));
      await deps.queues.enqueueRefreshBulk(
        exercise.map((r) => ({ provider: r.provider, connectionId: r.id, reason: 'proactive' as const })),
      );
      report.exercised += exercise.length;
      for (const r of rows.filter((row) => !refreshExtendsLifetime(providerSpec(row.provider)))) {
        const lapsesAt = r.refreshTokenExpiresAt!.toISOString();
        await deps.connections.notifyConnection(r.id, r.provider, {
          type: 'connection.refresh_expiring',
          payload: notificationPayload(r, { refreshTokenExpiresAt: lapsesAt }),
          dedupeKey: `refresh_expiring:${r.id}:${lapsesAt.slice(0, 10)}`,
        });
        report.warned++;
      }
      const last = rows[rows.length - 1]!;
      after = { refreshTokenExpiresAt: last.refreshTokenExpiresAt!, id: last.id };
      if (rows.length < settings.batchSize) break;
    }
  }
  return report;
}
