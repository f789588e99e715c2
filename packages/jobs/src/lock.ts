// One refresh per connection at a time, everywhere (DESIGN rule 2). A lock is a Redis key whose
// value is a random owner token: only the owner can release or extend it, and it lapses by
// itself (TTL) if its owner dies. The atomic steps are named Lua scripts.
import { randomBytes } from 'node:crypto';
import type { RedisClient } from './redis.ts';

const RELEASE_IF_OWNER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const EXTEND_IF_OWNER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

export interface HeldLock {
  key: string;
  owner: string;
}

export class RedisLocks {
  constructor(
    private readonly redis: RedisClient,
    /** key prefix, e.g. `{conduit}:lock` */
    private readonly prefix: string,
  ) {}

  keyFor(name: string): string {
    return `${this.prefix}:${name}`;
  }

  /** Takes the lock if it is free; null if someone else holds it. */
  async acquire(name: string, ttlMs: number): Promise<HeldLock | null> {
    const key = this.keyFor(name);
    const owner = randomBytes(16).toString('hex');
    const ok = await this.redis.set(key, owner, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? { key, owner } : null;
  }

  /** Releases the lock only if this owner still holds it (compare-and-delete). */
  async release(lock: HeldLock): Promise<boolean> {
    return (await this.redis.eval(RELEASE_IF_OWNER, 1, lock.key, lock.owner)) === 1;
  }

  /** Extends the lock only if this owner still holds it. */
  async extend(lock: HeldLock, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(EXTEND_IF_OWNER, 1, lock.key, lock.owner, String(ttlMs))) === 1;
  }

  async isHeld(name: string): Promise<boolean> {
    return (await this.redis.exists(this.keyFor(name))) === 1;
  }
}
