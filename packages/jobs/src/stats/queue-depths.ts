// How much work waits in each queue, and which lanes are closed: read live from Redis for the
// health page and for the queue gauges on each /metrics scrape.
import type { Queue } from 'bullmq';
import type { GateReason, ProviderGate } from '../provider-gate.ts';

export interface QueueDepth {
  queue: string;
  /** waiting to run: wait + prioritized (a paused queue's jobs stay in wait) */
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  /** paused by an operator (Bull Board) */
  paused: boolean;
}

export async function queueDepths(queues: readonly Queue[]): Promise<QueueDepth[]> {
  return Promise.all(
    queues.map(async (q) => {
      const [c, paused] = await Promise.all([
        q.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed'),
        q.isPaused(),
      ]);
      return {
        queue: q.name,
        waiting: (c.wait ?? 0) + (c.prioritized ?? 0),
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        failed: c.failed ?? 0,
        paused,
      };
    }),
  );
}

export interface LaneState {
  provider: string;
  /** open, or why the provider gate is closed */
  state: 'open' | GateReason;
  /** milliseconds until it opens; 0 when open */
  remainingMs: number;
}

export async function laneStates(gate: ProviderGate, providers: readonly string[]): Promise<LaneState[]> {
  return Promise.all(
    providers.map(async (provider): Promise<LaneState> => {
      const s = await gate.state(provider);
      return s
        ? { provider, state: s.reason, remainingMs: s.remainingMs }
        : { provider, state: 'open', remainingMs: 0 };
    }),
  );
}
