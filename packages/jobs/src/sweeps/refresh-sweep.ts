// The safety net of DESIGN rule 5: every interval, enqueue a refresh for each connection whose
// access token expires within the buffer plus one interval (so nothing lapses between two
// sweeps), selected by index with keyset pagination and enqueued as batch jobs of connections
// that fall due together (docs/benchmarks.md, "Refresh cost").
// A sweep claims what it queues (refresh-claims.ts: in Redis, beside the lane's queue, no row
// written), so the next sweeps leave a queued connection alone instead of re-adding it every
// interval; after `requeueAfterMs` it is queued again, in case the job was lost, and at once if it
// was refreshed meanwhile. The claim is atomic, so several schedulers never queue one connection
// twice; it reads no row lock, so a row another session holds locked delays nothing here (its job
// finds it busy and tries again).
import { REFRESH_LIFETIME_SHARE, refreshDueAt, type ProviderKey } from '@conduit/core';
import type { ConnectionRepository, DueCursor } from '@conduit/db';
import type { Queues } from '../queues.ts';

export interface RefreshSweepSettings {
  bufferMs: number;
  intervalMs: number;
  batchSize: number;
  /** a connection queued this long ago without being refreshed is queued again */
  requeueAfterMs: number;
  /** most connections one refresh job carries (1: a job per connection) */
  jobBatchSize: number;
  /** one job holds connections that fall due within this long of each other */
  jobBatchWindowMs: number;
}

export interface SweepReport {
  selected: number;
  enqueued: number;
  /** skipped because their cooldown (retries exhausted) has not ended */
  coolingDown: number;
  /** skipped because a recent sweep (this scheduler's or another's) queued them and they were not refreshed since */
  alreadyQueued: number;
  /** pages read */
  batches: number;
  /** refresh jobs queued (each carries up to jobBatchSize connections) */
  jobs: number;
}

export async function runRefreshSweep(
  deps: { connections: ConnectionRepository; queues: Queues },
  settings: RefreshSweepSettings,
  now: Date = new Date(),
): Promise<SweepReport> {
  const dueBefore = new Date(now.getTime() + settings.bufferMs + settings.intervalMs);
  const report: SweepReport = {
    selected: 0,
    enqueued: 0,
    coolingDown: 0,
    alreadyQueued: 0,
    batches: 0,
    jobs: 0,
  };
  for (const status of ['connected', 'token_expired'] as const) {
    let after: DueCursor | undefined;
    for (;;) {
      const rows = await deps.connections.listDueForRefresh({
        status,
        dueBefore,
        // The worker's rule: due before the next sweep, each job delayed until it is due.
        due: {
          dueBy: new Date(now.getTime() + settings.intervalMs),
          bufferSeconds: settings.bufferMs / 1000,
          lifetimeShare: REFRESH_LIFETIME_SHARE,
        },
        after,
        limit: settings.batchSize,
      });
      if (rows.length === 0) break;
      report.batches++;
      report.selected += rows.length;
      const ready = rows.filter((r) => !r.refreshNotBefore || r.refreshNotBefore <= now);
      report.coolingDown += rows.length - ready.length;
      const byLane = new Map<ProviderKey, typeof ready>();
      for (const r of ready) {
        const lane = byLane.get(r.provider as ProviderKey);
        if (lane) lane.push(r);
        else byLane.set(r.provider as ProviderKey, [r]);
      }
      // one script per lane, side by side (on a cluster the lanes' keys may live on different nodes)
      const perLane = await Promise.all(
        [...byLane].map(([provider, lane]) =>
          deps.queues.claimRefreshes(provider, lane, now, settings.requeueAfterMs),
        ),
      );
      const claimed = ready.filter((r) => perLane.some((ids) => ids.has(r.id)));
      report.alreadyQueued += ready.length - claimed.length;
      const dueAt = new Map(
        claimed.map((r) => [
          r.id,
          refreshDueAt({
            tokenExpiresAt: r.tokenExpiresAt!,
            tokenLifetimeSeconds: r.tokenLifetimeSeconds,
            bufferMs: settings.bufferMs,
          }).getTime(),
        ]),
      );
      const jobs = claimed.map((r) => ({
        provider: r.provider,
        connectionId: r.id,
        reason: 'sweep' as const,
        delayMs: (dueAt.get(r.id) ?? now.getTime()) - now.getTime(),
      }));
      report.jobs += await deps.queues.enqueueRefreshBatches(jobs, {
        batchSize: settings.jobBatchSize,
        windowMs: settings.jobBatchWindowMs,
      });
      report.enqueued += claimed.length;
      const last = rows[rows.length - 1]!;
      after = { tokenExpiresAt: last.tokenExpiresAt!, id: last.id };
      if (rows.length < settings.batchSize) break;
    }
  }
  return report;
}
