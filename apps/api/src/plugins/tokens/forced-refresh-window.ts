// At most one forced refresh per connection per window, across every api process: a Redis key
// taken with SET NX PX. Whoever takes it refreshes; the others wait while it is "pending" and
// then read the token it stored — so a client stuck in a 401 loop cannot rotate a grant to death,
// and concurrent forced callers share one refresh (single flight) wherever they arrive.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient } from '@conduit/jobs';

export type ForcedRefreshClaim =
  { claimed: true; /** the refresh is over: waiters may read */ done(): Promise<void> } | { claimed: false };

export interface ForcedRefreshWindowOptions {
  redis: RedisClient;
  /** e.g. `{conduit}:force-refresh` */
  keyPrefix: string;
  windowMs: number;
  pollMs?: number;
}

const PENDING = 'pending';
const DONE = 'done';

export class ForcedRefreshWindow {
  private readonly pollMs: number;

  constructor(private readonly opts: ForcedRefreshWindowOptions) {
    this.pollMs = opts.pollMs ?? 50;
  }

  async claim(connectionId: string): Promise<ForcedRefreshClaim> {
    const key = this.key(connectionId);
    const taken = await this.opts.redis.set(key, PENDING, 'PX', this.opts.windowMs, 'NX');
    if (taken !== 'OK') return { claimed: false };
    return {
      claimed: true,
      done: async () => {
        // KEEPTTL: the window still runs from the claim; XX: never re-open one that lapsed.
        await this.opts.redis.set(key, DONE, 'KEEPTTL', 'XX');
      },
    };
  }

  /** Returns once the current forced refresh is over, or after `maxMs`. */
  async waitWhilePending(connectionId: string, maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    const key = this.key(connectionId);
    while (Date.now() < deadline && (await this.opts.redis.get(key)) === PENDING) {
      await sleep(this.pollMs);
    }
  }

  private key(connectionId: string): string {
    return `${this.opts.keyPrefix}:${connectionId}`;
  }
}
