// The refresh path reports each outcome once (RefreshObserver in @conduit/jobs); this turns it
// into Prometheus series for this process and into the fleet-wide per-minute counts the health
// page reads. Typed structurally, so observability does not depend on the jobs package.
import type { ConduitMetrics } from './metrics.ts';

/** Where outcomes are also counted across processes (RefreshStats in @conduit/jobs). */
export interface RefreshOutcomeSink {
  record(provider: string, outcome: string): Promise<unknown>;
}

export interface MetricsRefreshObserver {
  onOutcome(provider: string, outcome: string, durationMs: number): void;
  onLockContention(provider: string): void;
  onCommit(provider: string, ms: number): void;
}

/**
 * A RefreshObserver that updates `metrics` and, when given, `stats`. A stats write that fails
 * (Redis away) goes to `onStatsError` and never fails the refresh that reported it.
 */
export function createRefreshObserver(
  metrics: ConduitMetrics,
  stats?: RefreshOutcomeSink,
  onStatsError: (err: unknown) => void = () => undefined,
): MetricsRefreshObserver {
  return {
    onOutcome(provider, outcome, durationMs) {
      metrics.refreshTotal.inc({ provider, outcome });
      metrics.refreshDuration.observe({ provider }, durationMs / 1000);
      stats?.record(provider, outcome).catch(onStatsError);
    },
    onLockContention(provider) {
      metrics.lockContention.inc({ provider });
    },
    onCommit(provider, ms) {
      metrics.refreshCommit.observe({ provider }, ms / 1000);
    },
  };
}
