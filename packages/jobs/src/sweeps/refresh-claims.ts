// The refresh sweep's claims: which due connections a sweep has queued, so that the next sweeps
// leave them alone while their job waits, and queue them again after `requeueAfterMs` in case the
// job was lost. Kept in Redis beside the lane's queue, a sorted set per lane (member: connection
// id, score: when a sweep queued it), and claimed by one script per lane and sweep page: atomic,
// so two schedulers never both queue a connection. No connection row is written: the claim was a
// third row write per refresh (`Connection.refreshQueuedAt`) besides the lease and the commit
// (docs/benchmarks.md, "Batched refreshes (issue 14)": its table, and "Fifth session" for the counts).
//
// A connection refreshed since its claim may be claimed again at once (its next due time can come
// before `requeueAfterMs` with short-lived tokens). A Redis that kept nothing forgets the claims
// together with the jobs they stood for, so the next sweep queues every due connection again at
// once. Entries older than `requeueAfterMs` are removed as the lane is claimed, and the set itself
// expires when no sweep has claimed on its lane for twice that long.
import type { RedisClient } from '../redis.ts';

export interface ClaimCandidate {
  id: string;
  /** the row's last successful refresh: after the claim, the claim no longer holds */
  lastRefreshAt: Date | null;
}

/**
 * KEYS[1]: the lane's set. ARGV: now (ms), requeue-before (ms), the set's TTL (ms), then pairs of
 * connection id and last refresh (ms, 0 when never). Returns the ids claimed now. Four commands
 * a page, whatever its size (ZMSCORE, ZADD, ZREMRANGEBYSCORE, PEXPIRE: Redis 6.2 or later).
 */
const CLAIM_SCRIPT = `
local now = tonumber(ARGV[1])
local before = tonumber(ARGV[2])
local ids, lasts = {}, {}
for i = 4, #ARGV, 2 do
  ids[#ids + 1] = ARGV[i]
  lasts[#lasts + 1] = tonumber(ARGV[i + 1])
end
local scores = redis.call('ZMSCORE', KEYS[1], unpack(ids))
local add, claimed = {}, {}
for j = 1, #ids do
  local at = scores[j] and tonumber(scores[j])
  if not at or at < before or lasts[j] > at then
    add[#add + 1] = now
    add[#add + 1] = ids[j]
    claimed[#claimed + 1] = ids[j]
  end
end
if #add > 0 then redis.call('ZADD', KEYS[1], unpack(add)) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return claimed`;

type WithClaimCommand = RedisClient & {
  conduitClaimRefreshes(key: string, ...args: (string | number)[]): Promise<string[]>;
};

const defined = new WeakSet<RedisClient>();

/** Most connections one script call claims (ZADD gets twice as many arguments). */
const CLAIM_CHUNK = 1_000;

/** Claims `candidates` on the lane whose set is `key`; returns the ids this call claimed. */
export async function claimRefreshes(
  redis: RedisClient,
  key: string,
  candidates: readonly ClaimCandidate[],
  now: Date,
  requeueAfterMs: number,
): Promise<Set<string>> {
  if (candidates.length === 0) return new Set();
  if (!defined.has(redis)) {
    // EVALSHA with the script loaded once per connection, not the script's text on every call
    redis.defineCommand('conduitClaimRefreshes', { numberOfKeys: 1, lua: CLAIM_SCRIPT });
    defined.add(redis);
  }
  const ttlMs = Math.max(60_000, 2 * requeueAfterMs);
  const claimed = new Set<string>();
  // Lua's unpack takes a few thousand values at most: a sweep page goes in chunks
  for (let i = 0; i < candidates.length; i += CLAIM_CHUNK) {
    const args: (string | number)[] = [now.getTime(), now.getTime() - requeueAfterMs, ttlMs];
    for (const c of candidates.slice(i, i + CLAIM_CHUNK)) args.push(c.id, c.lastRefreshAt?.getTime() ?? 0);
    for (const id of await (redis as WithClaimCommand).conduitClaimRefreshes(key, ...args)) claimed.add(id);
  }
  return claimed;
}
