// A provider that said "wait" (429 with Retry-After, or a lane paused after repeated
// invalid_client) is not called again before the wait is over — by any worker, scheduler or
// inline getValidAccessToken caller. The gate is one Redis key per provider lane whose TTL is
// the wait; the longest wait wins.
import type { RedisClient } from './redis.ts';

const EXTEND_TO_AT_LEAST = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
  return 1
end
return 0`;

export type GateReason = 'rate_limited' | 'invalid_client';

export interface GateState {
  provider: string;
  reason: GateReason;
  remainingMs: number;
}

export class ProviderGate {
  constructor(
    private readonly redis: RedisClient,
    /** key prefix, e.g. `{conduit}:gate` */
    private readonly prefix: string,
  ) {}

  private key(provider: string): string {
    return `${this.prefix}:${provider}`;
  }

  /** Closes the lane for `ms` (or keeps the longer wait already in place). */
  async close(provider: string, ms: number, reason: GateReason): Promise<void> {
    await this.redis.eval(
      EXTEND_TO_AT_LEAST,
      1,
      this.key(provider),
      String(Math.max(1, Math.ceil(ms))),
      reason,
    );
  }

  /** Milliseconds until the lane opens; 0 when open. */
  async remainingMs(provider: string): Promise<number> {
    const ttl = await this.redis.pttl(this.key(provider));
    return ttl > 0 ? ttl : 0;
  }

  async state(provider: string): Promise<GateState | null> {
    const [[, reason], [, ttl]] = (await this.redis
      .multi()
      .get(this.key(provider))
      .pttl(this.key(provider))
      .exec()) as [[Error | null, string | null], [Error | null, number]];
    return reason && ttl > 0 ? { provider, reason: reason as GateReason, remainingMs: ttl } : null;
  }

  async open(provider: string): Promise<void> {
    await this.redis.del(this.key(provider));
  }
}
