// When each windowed fault class runs: one after the other, never overlapping, each followed by
// a quiet gap, so whatever goes wrong can be pinned on the window it happened in (or right after).
// The background faults (token-endpoint errors, SIGKILLs, webhooks) run through the whole phase,
// which lasts `--minutes` or, when the windows need longer, until the last gap has passed.
import type { ChaosOptions, FaultClass } from './options.ts';

export type WindowName =
  | 'bad-secret'
  | 'redis-restart'
  | 'pg-restart-fast'
  | 'pg-restart-immediate'
  | 'row-lock'
  | 'sigstop'
  | 'lost-answer'
  | 'latency'
  | 'redis-outage'
  | 'cpu-hog';

export interface PlannedWindow {
  name: WindowName;
  cls: FaultClass;
  /** ms after the fault phase began */
  startMs: number;
  /** expected length (a Postgres start after a crash may take longer: the next window waits) */
  durationMs: number;
}

export const REDIS_RESTART_DOWN_MS = 2_000;
/** a Postgres stop and start, besides the time it stays down */
const PG_CYCLE_MS = 2_000;

/** Window order: the long-standing classes first (a short run keeps their old rhythm), the longest last. */
function windowsOf(o: ChaosOptions): Array<Omit<PlannedWindow, 'startMs'>> {
  const w = o.windows;
  const all: Array<Omit<PlannedWindow, 'startMs'>> = [
    { name: 'bad-secret', cls: 'bad-secret', durationMs: o.badSecretSeconds * 1000 },
    { name: 'redis-restart', cls: 'redis-restart', durationMs: REDIS_RESTART_DOWN_MS },
    { name: 'pg-restart-fast', cls: 'pg-restart', durationMs: w.pgDownSeconds * 1000 + PG_CYCLE_MS },
    { name: 'pg-restart-immediate', cls: 'pg-restart', durationMs: w.pgDownSeconds * 1000 + PG_CYCLE_MS },
    { name: 'row-lock', cls: 'row-lock', durationMs: w.rowLockSeconds * 1000 },
    { name: 'sigstop', cls: 'sigstop', durationMs: w.sigstopSeconds * 1000 },
    { name: 'lost-answer', cls: 'lost-answer', durationMs: w.lostAnswerSeconds * 1000 },
    { name: 'latency', cls: 'latency', durationMs: w.latencySeconds * 1000 },
    { name: 'redis-outage', cls: 'redis-outage', durationMs: w.redisOutageSeconds * 1000 },
    { name: 'cpu-hog', cls: 'cpu-hog', durationMs: w.hogSeconds * 1000 },
  ];
  return all.filter((x) => !o.skip.has(x.cls));
}

/**
 * The windows of the run's classes and the length of the fault phase. The first window opens
 * at 30 % of `--minutes` (at most 20 s in), after the revocations at 25 %.
 */
export function planWindows(o: ChaosOptions): { windows: PlannedWindow[]; phaseMs: number } {
  const nominalMs = o.minutes * 60_000;
  const gapMs = o.windows.gapSeconds * 1000;
  let at = Math.min(0.3 * nominalMs, 20_000);
  const windows = windowsOf(o).map((w) => {
    const planned = { ...w, startMs: Math.round(at) };
    at += w.durationMs + gapMs;
    return planned;
  });
  return { windows, phaseMs: Math.max(nominalMs, Math.round(at)) };
}
