// Queue names, typed payloads and the one place queues are built. Payloads carry ids and a
// reason only, never a token (DESIGN rule 1). Each refreshing provider has its own lane, so a
// 429 storm at one provider never delays another (rule 6).
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { PROVIDER_KEYS, providerSpec, type ProviderKey } from '@conduit/core';
import { queueKeyPrefix } from './key-slots.ts';
import { isCluster, type RedisClient } from './redis.ts';
import { claimRefreshes, type ClaimCandidate } from './sweeps/refresh-claims.ts';

/**
 * sweep: the access token is due; proactive: the refresh token would lapse; manual: an operator
 * asked; recovery: a connection in `error` is tried again (e.g. after its client secret was fixed).
 */
export type RefreshReason = 'sweep' | 'proactive' | 'manual' | 'retry' | 'recovery';

/** One connection: an operator's request, a retry, a follow-up of a batch. */
export interface SingleRefreshJobData {
  connectionId: string;
  reason: RefreshReason;
  /** transient attempts already used (rate limits and busy locks never count) */
  attempt?: number;
}

/** Connections the sweep found due together: their leases, requests and writes are shared. */
export interface BatchRefreshJobData {
  connectionIds: string[];
  reason: RefreshReason;
}

export type RefreshJobData = SingleRefreshJobData | BatchRefreshJobData;

export function isBatchRefresh(data: RefreshJobData): data is BatchRefreshJobData {
  return Array.isArray((data as BatchRefreshJobData).connectionIds);
}

/** The connections a refresh job is for. */
export function refreshJobConnections(data: RefreshJobData): string[] {
  return isBatchRefresh(data) ? data.connectionIds : [data.connectionId];
}

export type SyncMode = 'incremental' | 'full';

export interface SyncJobData {
  connectionId: string;
  mode: SyncMode;
  /** stop after this many meetings (manual syncs may ask for fewer) */
  limit?: number;
  reason: 'sweep' | 'manual' | 'connected';
}

export interface TranscriptJobData {
  connectionId: string;
  /** Fathom's recording_id */
  recordingId: number;
  /** the webhook delivery that asked for it, if any */
  deliveryId?: string;
}

export type SweepName =
  | 'refresh-sweep'
  | 'lapse-sweep'
  | 'sync-sweep'
  | 'recovery-sweep'
  | 'inbox-sweep'
  | 'webhook-sweep'
  | 'retention-sweep'
  | 'cleanup';

export interface SweepJobData {
  sweep: SweepName;
}

/** Providers whose tokens expire and can be refreshed: each gets a refresh lane. */
export const REFRESH_PROVIDERS: readonly ProviderKey[] = PROVIDER_KEYS.filter(
  (k) => providerSpec(k).refresh.kind === 'refresh_token',
);

export const QUEUE_NAMES = {
  refresh: (provider: ProviderKey) => `refresh-${provider}`,
  sweeps: 'sweeps',
  syncFathom: 'sync-fathom',
  transcripts: 'transcripts',
  /**
   * @deprecated no such queue exists: notifications are drained from the Postgres outbox by
   * polling (packages/jobs/src/notify), so Bull Board does not list it. Kept for old callers.
   */
  notify: 'notify',
} as const;

export const QUEUE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(
    REFRESH_PROVIDERS.map((p) => [
      QUEUE_NAMES.refresh(p),
      `Token refreshes for ${providerSpec(p).displayName}: the sweep's jobs each carry a batch of connections due together; single-connection jobs (manual, retries) are deduplicated by connection id.`,
    ]),
  ),
  [QUEUE_NAMES.sweeps]:
    'Scheduler sweeps (Job Schedulers): due refreshes, lapsing refresh tokens, hourly syncs, cleanup.',
  [QUEUE_NAMES.syncFathom]:
    'Fathom meeting syncs: one per user at a time, incremental from the stored cursor.',
  [QUEUE_NAMES.transcripts]: 'Fathom transcript and summary fetches, triggered by syncs and webhooks.',
};

/** Failures that are not classified outcomes (a bug, Postgres down) retry with BullMQ's own backoff. */
const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 3_600, count: 1_000 },
  removeOnFail: { age: 7 * 86_400, count: 10_000 },
};

/** A connection to refresh, as the sweeps queue it. */
export interface DueRefresh {
  provider: ProviderKey;
  connectionId: string;
  reason: RefreshReason;
  /** run it then, not before: when its token becomes due */
  delayMs?: number;
}

export interface QueuesOptions {
  connection: ConnectionOptions;
  /** the key namespace, e.g. `conduit`: each queue gets a hash tag of its own (see key-slots.ts) */
  prefix: string;
  /** called with each queue as it is built, e.g. to listen to its `error` events */
  onCreate?: (queue: Queue) => void;
}

export class Queues {
  private readonly cache = new Map<string, Queue>();

  constructor(private readonly options: QueuesOptions) {}

  get prefix(): string {
    return this.options.prefix;
  }

  /** BullMQ's `prefix` option for queue `name`: a Worker of that queue must be given the same. */
  keyPrefixFor(name: string): string {
    return queueKeyPrefix(this.options.prefix, name);
  }

  get(name: string): Queue {
    let q = this.cache.get(name);
    if (!q) {
      q = new Queue(name, {
        connection: this.options.connection,
        prefix: this.keyPrefixFor(name),
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
      });
      this.cache.set(name, q);
      this.options.onCreate?.(q);
    }
    return q;
  }

  /** The refresh sweep's claims on a lane: beside its queue, in the same cluster slot, outside BullMQ's keys. */
  refreshClaimsKey(provider: ProviderKey): string {
    const name = QUEUE_NAMES.refresh(provider);
    return `${this.keyPrefixFor(name)}:claims:${name}`;
  }

  /**
   * Claims due connections of one lane for a sweep to queue, unless a sweep (of any scheduler)
   * queued them within `requeueAfterMs` and they were not refreshed since; returns those claimed.
   */
  claimRefreshes(
    provider: ProviderKey,
    candidates: readonly ClaimCandidate[],
    now: Date,
    requeueAfterMs: number,
  ): Promise<Set<string>> {
    return claimRefreshes(this.client(), this.refreshClaimsKey(provider), candidates, now, requeueAfterMs);
  }

  private client(): RedisClient {
    const c = this.options.connection as RedisClient;
    if (isCluster(c) || typeof (c as { defineCommand?: unknown }).defineCommand === 'function') return c;
    throw new Error('Queues: the refresh claims need an ioredis client (Redis or Cluster) as the connection');
  }

  refresh(provider: ProviderKey): Queue<RefreshJobData> {
    return this.get(QUEUE_NAMES.refresh(provider)) as Queue<RefreshJobData>;
  }

  /** Every Conduit queue that has workers, for Bull Board and metrics. */
  all(): Queue[] {
    return Object.keys(QUEUE_DESCRIPTIONS).map((name) => this.get(name));
  }

  /** One queued refresh per connection at a time: a second add while one is pending is a no-op. */
  async enqueueRefresh(provider: ProviderKey, connectionId: string, reason: RefreshReason): Promise<void> {
    await this.refresh(provider).add('refresh', { connectionId, reason }, refreshJobOptions(connectionId));
  }

  /** Single-connection jobs, deduplicated by connection id (the lapse and recovery sweeps). */
  async enqueueRefreshBulk(
    jobs: readonly DueRefresh[],
  ) {
    const byProvider = new Map<ProviderKey, (typeof jobs)[number][]>();
    for (const j of jobs) {
      const list = byProvider.get(j.provider) ?? [];
      list.push(j);
      byProvider.set(j.provider, list);
    }
    await Promise.all(
      [...byProvider].map(([provider, list]) =>
        this.refresh(provider).addBulk(
          list.map((j) => ({
            name: 'refresh',
            data: { connectionId: j.connectionId, reason: j.reason },
            opts: {
              ...refreshJobOptions(j.connectionId),
              ...(j.delayMs !== undefined && j.delayMs > 0 && { delay: Math.ceil(j.delayMs) }),
            },
          })),
        ),
      ),
    );
  }

  /**
   * Queues due connections, per provider, as batch jobs of up to `batchSize` connections that
   * fall due within `windowMs` of each other; each job runs when the last of its connections is
   * due. One connection is never in two of the jobs queued here (the sweep's claim keeps later
   * sweeps from queueing it again while it waits).
   */
  async enqueueRefreshBatches(
    jobs: readonly DueRefresh[],
    options: { batchSize: number; windowMs: number },
  ): Promise<number> {
    const groups = planRefreshBatches(jobs, options);
    let count = 0;
    await Promise.all(
      groups.map((list) => {
        const provider = list[0]!.provider;
        count += list.length;
        return this.refresh(provider).addBulk(
          list.map((b) => ({
            name: 'refresh-batch',
            data: { connectionIds: b.ids, reason: b.reason },
            opts: b.delayMs > 0 ? { delay: b.delayMs } : {},
          })),
        );
      }),
    );
    return count;
  }

  async close(): Promise<void> {
    await Promise.all([...this.cache.values()].map((q) => q.close()));
    this.cache.clear();
  }
}

export interface PlannedRefreshBatch {
  provider: ProviderKey;
  reason: RefreshReason;
  /** when its first (earliest due) connection is due, ms from now */
  firstMs: number;
  /** when its last connection is due, ms from now: the job's delay */
  delayMs: number;
  ids: string[];
}

/**
 * Due connections grouped into batch jobs: per provider lane and reason, in due order, at most
 * `batchSize` each, a batch holding only connections due within `windowMs` of its first one.
 * Returns one list of batches per lane.
 */
export function planRefreshBatches(
  jobs: readonly DueRefresh[],
  options: { batchSize: number; windowMs: number },
): PlannedRefreshBatch[][] {
  const groups = new Map<string, PlannedRefreshBatch[]>();
  const sorted = [...jobs].sort((a, b) => (a.delayMs ?? 0) - (b.delayMs ?? 0));
  for (const j of sorted) {
    const key = `${j.provider} ${j.reason}`;
    const list = groups.get(key) ?? [];
    groups.set(key, list);
    const delayMs = Math.max(0, Math.ceil(j.delayMs ?? 0));
    const open = list[list.length - 1];
    if (open && open.ids.length < options.batchSize && delayMs <= open.firstMs + options.windowMs) {
      open.ids.push(j.connectionId);
      open.delayMs = delayMs;
    } else {
      list.push({ provider: j.provider, reason: j.reason, firstMs: delayMs, delayMs, ids: [j.connectionId] });
    }
  }
  return [...groups.values()];
}

function refreshJobOptions(connectionId: string): JobsOptions {
  return { deduplication: { id: `refresh:${connectionId}` } };
}
