// The refresh lease: who may present a connection's refresh token, kept in the connection's own
// row. Taking it is one compare-and-set statement that also re-reads the row; only its owner can
// renew or clear it; it lapses by itself (`leaseUntil`) if the owner dies. Times are Postgres's
// clock, so the workers' clocks never matter, and a Redis restart cannot hand it to a second
// process (DESIGN.md, "Refresh safety").
import { Prisma, type PrismaClient } from './generated/client.ts';
import type { ConnectionRow } from './connections.ts';
import { RefreshStore } from './refresh-store.ts';

/** Prisma stores DateTime as UTC in `timestamp(3)`: compare against UTC whatever the session zone. */
const NOW_UTC = Prisma.raw(`(clock_timestamp() AT TIME ZONE 'UTC')`);

export type LeaseTake =
  | { kind: 'taken'; row: ConnectionRow; previousOwner: string | null }
  | { kind: 'held' }
  | { kind: 'not_found' };

export class ConnectionLeases {
  /** the batch statements this single-row view runs */
  readonly store: RefreshStore;

  constructor(private readonly db: PrismaClient) {
    this.store = new RefreshStore(db);
  }

  /**
   * Takes the lease if it is free or lapsed and returns the row as it stands under it (the batch
   * statement of RefreshStore, for one row). `previousOwner` is set when the last holder never
   * cleared it (it died, stalled or failed to commit): its answer may be waiting in the rescue
   * slot. A row another session has locked right now is `held`: try again later.
   */
  async take(connectionId: string, owner: string, ttlMs: number): Promise<LeaseTake> {
    const { taken, notFound } = await this.store.takeLeases([connectionId], owner, ttlMs);
    const hit = taken[0];
    if (hit) return { kind: 'taken', row: hit.row, previousOwner: hit.previousOwner };
    return notFound.length > 0 ? { kind: 'not_found' } : { kind: 'held' };
  }

  /**
   * Pushes the lease's end to now + ttl. True while this owner still holds it (a lapsed lease
   * nobody else took is still safe to renew, since only a new owner could have presented the
   * token); false also while another session has the row locked, so the lease is not pushed out.
   */
  async renew(connectionId: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.store.renewLeases([connectionId], owner, ttlMs)).has(connectionId);
  }

  /** Clears the lease if this owner still holds it. */
  async release(connectionId: string, owner: string): Promise<boolean> {
    return (await this.store.releaseLeases([connectionId], owner)).has(connectionId);
  }

  /** Whether someone holds an unlapsed lease on the connection right now. */
  async isHeld(connectionId: string): Promise<boolean> {
    const rows = await this.db.$queryRaw<Array<{ held: boolean }>>`
      SELECT ("leaseOwner" IS NOT NULL AND "leaseUntil" > ${NOW_UTC}) AS held
      FROM "Connection" WHERE id = ${connectionId}::uuid`;
    return rows[0]?.held ?? false;
  }
}
