// A provider's documented per-account request budget (Fathom: 60 calls per 60 s), shared by
// every worker process through Redis. A sliding log per account: a request may go when fewer
// than `requests` went in the last `windowMs + marginMs` — the margin covers the time between
// taking a slot and the request reaching the provider, so no fixed window the provider counts
// can ever see one request too many. After a 429 the account is paused for the wait it gave.
// Times come from Redis (TIME), so the clocks of the workers do not matter.
import { randomBytes } from 'node:crypto';
import { slotTag } from '../key-slots.ts';
import type { RedisClient } from '../redis.ts';

const TAKE_SLOT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return paused end
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)`;

const NOTE_REQUESTS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, tonumber(ARGV[2]) do redis.call('ZADD', KEYS[1], now, ARGV[3] .. ':' .. i) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 0`;

const PAUSE_AT_LEAST = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 0`;

export interface BudgetSettings {
  requests: number;
  windowMs: number;
  /** added to the window: the longest a request takes from taking its slot to reaching the provider */
  marginMs: number;
}

export class AccountBudget {
  private readonly windowMs: number;

  constructor(
    private readonly redis: RedisClient,
    /** key prefix, e.g. `{conduit}:budget` */
    private readonly prefix: string,
    private readonly settings: BudgetSettings,
  ) {
    if (!Number.isInteger(settings.requests) || settings.requests < 1) {
      throw new RangeError(`AccountBudget: requests must be a whole number ≥ 1, got ${settings.requests}`);
    }
    this.windowMs = settings.windowMs + settings.marginMs;
  }

  /** 0: go now (the request is counted). Otherwise the milliseconds until a slot frees up. */
  async take(account: string): Promise<number> {
    const member = randomBytes(8).toString('hex');
    const wait = await this.redis.eval(
      TAKE_SLOT,
      2,
      this.logKey(account),
      this.pauseKey(account),
      String(this.windowMs),
      String(this.settings.requests),
      member,
    );
    return Number(wait);
  }

  /** Counts requests made without `take` (e.g. while connecting, before the account was known). */
  async note(account: string, requests: number): Promise<void> {
    if (requests <= 0) return;
    await this.redis.eval(
      NOTE_REQUESTS,
      1,
      this.logKey(account),
      String(this.windowMs),
      String(requests),
      randomBytes(8).toString('hex'),
    );
  }

  /** After a rate-limit answer: nobody calls this account for `ms` (a longer pause in place stays). */
  async pause(account: string, ms: number): Promise<void> {
    await this.redis.eval(PAUSE_AT_LEAST, 1, this.pauseKey(account), String(Math.max(1, Math.ceil(ms))));
  }

  // TAKE_SLOT reads both keys of an account: one hash tag keeps them in one cluster slot.
  private logKey(account: string): string {
    return `${this.prefix}:${slotTag(this.prefix, account)}`;
  }

  private pauseKey(account: string): string {
    return `${this.logKey(account)}:paused`;
  }
}

/**
 * The budget key of a connection: its provider account when known (shared by every connection to
 * it) — the account id, or the email where the provider names no id (Fathom).
 */
export function accountBudgetKey(
  provider: string,
  conn: { id: string; externalAccountId: string | null; externalEmail?: string | null },
): string {
  const account = conn.externalAccountId ?? conn.externalEmail ?? null;
  return `${provider}:${account ?? `connection:${conn.id}`}`;
}
