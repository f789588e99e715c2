// The rescue slot: the moment a provider answers a refresh with new tokens, a copy of the answer
// (already vault ciphertext) goes to Redis, keyed by connection and the row version it answers,
// while the same tokens are written to Postgres. Until that write lands, the only other copy is
// this process's memory; if the process dies, the next lease holder finds the slot and stores it
// instead of presenting the rotated-out refresh token. The lease lives in Postgres and the slot
// in Redis, so no single store's fault loses both (DESIGN.md, "Refresh safety").
import calculateSlot from 'cluster-key-slot';
import type { RefreshedTokens } from '@conduit/db';
import { isCluster, type RedisClient } from '../redis.ts';

interface Stored {
  accessTokenEnc: string;
  refreshTokenEnc?: string;
  tokenExpiresAt: string | null;
  tokenLifetimeSeconds?: number | null;
  refreshTokenExpiresAt?: string | null;
  scopes?: string[];
}

export class RescueSlotError extends Error {
  override readonly name = 'RescueSlotError';
}

export class RescueSlots {
  /** slots whose answers are stored, dropped together at the end of the event-loop turn */
  private dropping: string[] = [];

  constructor(
    private readonly redis: RedisClient,
    /** key prefix, e.g. `{conduit}:rescue` */
    private readonly prefix: string,
    private readonly ttlMs: number,
    /** how long one slot operation may take before it counts as failed (Redis down or stalled) */
    private readonly timeoutMs: number,
  ) {}

  keyFor(connectionId: string, version: number): string {
    return `${this.prefix}:${connectionId}:${version}`;
  }

  /** Keeps the answer to the refresh of `version` until it is dropped or the TTL passes. */
  async put(connectionId: string, version: number, tokens: RefreshedTokens): Promise<void> {
    const stored: Stored = {
      accessTokenEnc: tokens.accessTokenEnc,
      ...(tokens.refreshTokenEnc !== undefined && { refreshTokenEnc: tokens.refreshTokenEnc }),
      tokenExpiresAt: tokens.tokenExpiresAt?.toISOString() ?? null,
      ...(tokens.tokenLifetimeSeconds !== undefined && { tokenLifetimeSeconds: tokens.tokenLifetimeSeconds }),
      ...(tokens.refreshTokenExpiresAt !== undefined && {
        refreshTokenExpiresAt: tokens.refreshTokenExpiresAt?.toISOString() ?? null,
      }),
      ...(tokens.scopes !== undefined && { scopes: tokens.scopes }),
    };
    await this.bounded(
      this.redis.set(this.keyFor(connectionId, version), JSON.stringify(stored), 'PX', this.ttlMs),
    );
  }

  /** The answer a previous holder left for `version`, or null. Throws RescueSlotError if Redis cannot say. */
  async get(connectionId: string, version: number): Promise<RefreshedTokens | null> {
    const raw = await this.bounded(this.redis.get(this.keyFor(connectionId, version)));
    if (raw === null) return null;
    const s = JSON.parse(raw) as Stored;
    return {
      accessTokenEnc: s.accessTokenEnc,
      ...(s.refreshTokenEnc !== undefined && { refreshTokenEnc: s.refreshTokenEnc }),
      tokenExpiresAt: s.tokenExpiresAt === null ? null : new Date(s.tokenExpiresAt),
      ...(s.tokenLifetimeSeconds !== undefined && { tokenLifetimeSeconds: s.tokenLifetimeSeconds }),
      ...(s.refreshTokenExpiresAt !== undefined && {
        refreshTokenExpiresAt: s.refreshTokenExpiresAt === null ? null : new Date(s.refreshTokenExpiresAt),
      }),
      ...(s.scopes !== undefined && { scopes: s.scopes }),
    };
  }

  /**
   * Drops a slot whose answer is stored (a stale slot is harmless: its version never comes back,
   * and it expires). The slots dropped in one event-loop turn go in one DEL per cluster slot: a
   * group commit's rows are stored together, and so are dropped together.
   */
  drop(connectionId: string, version: number): void {
    if (this.dropping.push(this.keyFor(connectionId, version)) === 1) setImmediate(() => this.flushDrops());
  }

  private flushDrops(): void {
    const keys = this.dropping;
    this.dropping = [];
    const groups = new Map<number, string[]>();
    if (isCluster(this.redis)) {
      for (const key of keys) {
        const slot = calculateSlot(key);
        const group = groups.get(slot);
        if (group) group.push(key);
        else groups.set(slot, [key]);
      }
    } else groups.set(0, keys);
    for (const group of groups.values()) this.bounded(this.redis.del(...group)).catch(() => undefined);
  }

  private async bounded<T>(op: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RescueSlotError(`Redis did not answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([op, timeout]);
    } catch (err) {
      if (err instanceof RescueSlotError) throw err;
      throw new RescueSlotError((err as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }
}
