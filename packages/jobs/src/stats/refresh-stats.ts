// Refresh outcomes over the last hour, for the health page: Prometheus counters live in each
// process, but the page needs the whole fleet's recent mix. One Redis hash per minute
// (`<prefix>:stats:{refresh}:<minute>`, fields `<provider>:<outcome>`) that expires after two
// hours costs one HINCRBY per refresh and 60 HGETALLs per page view.
import { slotTag } from '../key-slots.ts';
import type { RedisClient } from '../redis.ts';
import type { RefreshOutcomeLabel } from '../refresh/deps.ts';

const MINUTE_MS = 60_000;

/** A page view reads 60 buckets in one pipeline, which a cluster allows within one slot only. */
function bucketKey(prefix: string, minute: number): string {
  return `${prefix}:stats:${slotTag(prefix, 'refresh')}:${minute}`;
}
export const REFRESH_STATS_TTL_SECONDS = 2 * 3_600;
export const REFRESH_STATS_WINDOW_MINUTES = 60;

/** Outcomes that reached the provider's token endpoint: the denominator of the success rate. */
export const TOKEN_REQUEST_OUTCOMES: ReadonlySet<string> = new Set<RefreshOutcomeLabel>([
  'refreshed',
  'lost_race',
  'rate_limited',
  'retry',
  'gave_up',
  'needs_reauth',
  'error',
]);

export type OutcomeCounts = Record<string, number>;

export interface RefreshMinute {
  /** start of the minute */
  at: Date;
  succeeded: number;
  failed: number;
  /** fresh, busy, gated, skipped: no token request was made */
  other: number;
}

export interface RefreshWindow {
  from: Date;
  to: Date;
  total: number;
  /** refreshes that called the token endpoint */
  attempts: number;
  succeeded: number;
  /** succeeded / attempts; null when nothing was attempted */
  successRate: number | null;
  byOutcome: OutcomeCounts;
  byProvider: Record<string, OutcomeCounts>;
  /** oldest first, one entry per minute of the window */
  perMinute: RefreshMinute[];
}

export class RefreshStats {
  constructor(
    private readonly redis: RedisClient,
    /** the key namespace (CONDUIT_QUEUE_PREFIX), e.g. `conduit` */
    private readonly prefix: string,
  ) {}

  private key(minute: number): string {
    return bucketKey(this.prefix, minute);
  }

  async record(provider: string, outcome: string, at: Date = new Date()): Promise<void> {
    const key = this.key(Math.floor(at.getTime() / MINUTE_MS));
    await this.redis
      .multi()
      .hincrby(key, `${provider}:${outcome}`, 1)
      .expire(key, REFRESH_STATS_TTL_SECONDS)
      .exec();
  }

  /** The last `minutes` minute buckets, the current one included. */
  async lastHour(now: Date = new Date(), minutes = REFRESH_STATS_WINDOW_MINUTES): Promise<RefreshWindow> {
    const current = Math.floor(now.getTime() / MINUTE_MS);
    const buckets = Array.from({ length: minutes }, (_, i) => current - minutes + 1 + i);
    const pipeline = this.redis.pipeline();
    for (const m of buckets) pipeline.hgetall(this.key(m));
    const replies = (await pipeline.exec()) ?? [];

    const byOutcome: OutcomeCounts = {};
    const byProvider: Record<string, OutcomeCounts> = {};
    const perMinute: RefreshMinute[] = [];
    let total = 0;
    buckets.forEach((minute, i) => {
      const [err, hash] = replies[i] ?? [null, {}];
      if (err) throw err;
      const row: RefreshMinute = { at: new Date(minute * MINUTE_MS), succeeded: 0, failed: 0, other: 0 };
      for (const [field, raw] of Object.entries((hash ?? {}) as Record<string, string>)) {
        const split = field.lastIndexOf(':');
        const provider = field.slice(0, split);
        const outcome = field.slice(split + 1);
        const n = Number(raw);
        total += n;
        byOutcome[outcome] = (byOutcome[outcome] ?? 0) + n;
        const p = (byProvider[provider] ??= {});
        p[outcome] = (p[outcome] ?? 0) + n;
        if (outcome === 'refreshed') row.succeeded += n;
        else if (TOKEN_REQUEST_OUTCOMES.has(outcome)) row.failed += n;
        else row.other += n;
      }
      perMinute.push(row);
    });
    const succeeded = byOutcome.refreshed ?? 0;
    const attempts = Object.entries(byOutcome)
      .filter(([outcome]) => TOKEN_REQUEST_OUTCOMES.has(outcome))
      .reduce((sum, [, n]) => sum + n, 0);
    return {
      from: new Date((current - minutes + 1) * MINUTE_MS),
      to: now,
      total,
      attempts,
      succeeded,
      successRate: attempts === 0 ? null : succeeded / attempts,
      byOutcome,
      byProvider,
      perMinute,
    };
  }
}

/**
 * RefreshStats for a busy worker: counts are added up in memory and written once per
 * `flushMs` in one pipeline, instead of one Redis transaction per refresh. The health page
 * reads minute buckets, so a second's delay changes nothing it shows.
 */
export class BufferedRefreshStats {
  private pending = new Map<string, Map<string, number>>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    flushMs = 1_000,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.timer = setInterval(() => void this.flush().catch(this.onError), flushMs);
    this.timer.unref();
  }

  record(provider: string, outcome: string, at: Date = new Date()): Promise<void> {
    const key = bucketKey(this.prefix, Math.floor(at.getTime() / MINUTE_MS));
    const fields = this.pending.get(key) ?? new Map<string, number>();
    const field = `${provider}:${outcome}`;
    fields.set(field, (fields.get(field) ?? 0) + 1);
    this.pending.set(key, fields);
    return Promise.resolve();
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const pipeline = this.redis.pipeline();
    for (const [key, fields] of batch) {
      for (const [field, n] of fields) pipeline.hincrby(key, field, n);
      pipeline.expire(key, REFRESH_STATS_TTL_SECONDS);
    }
    await pipeline.exec();
  }

  /** Writes what is pending and stops the timer. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
