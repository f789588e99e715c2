// The refresh lease: who may present a connection's refresh token, kept in the connection's own
// row. Taking it is one compare-and-set statement that also re-reads the row; only its owner can
// renew or clear it; it lapses by itself (`leaseUntil`) if the owner dies. Times are Postgres's
// clock, so the workers' clocks never matter, and a Redis restart cannot hand it to a second
// process (DESIGN.md, "Refresh safety").
import { Prisma, type PrismaClient } from './generated/client.ts';
import type { ConnectionRow } from './connections.ts';

/** Prisma stores DateTime as UTC in `timestamp(3)`: compare against UTC whatever the session zone. */
const NOW_UTC = Prisma.raw(`(clock_timestamp() AT TIME ZONE 'UTC')`);

export type LeaseTake =
  | { kind: 'taken'; row: ConnectionRow; previousOwner: string | null }
  | { kind: 'held' }
  | { kind: 'not_found' };

export class ConnectionLeases {
  constructor(private readonly db: PrismaClient) {}

  /**
   * Takes the lease if it is free or lapsed and returns the row as it stands under it.
   * `previousOwner` is set when the last holder never cleared it (it died, stalled or failed to
   * commit): its answer may be waiting in the rescue slot.
   */
  async take(connectionId: string, owner: string, ttlMs: number): Promise<LeaseTake> {
    const rows = await this.db.$queryRaw<Array<ConnectionRow & { previousOwner: string | null }>>`
      WITH prev AS (
        SELECT id, "leaseOwner" FROM "Connection" WHERE id = ${connectionId}::uuid FOR UPDATE
      )
      UPDATE "Connection" c
      SET "leaseOwner" = ${owner}, "leaseUntil" = ${NOW_UTC} + ${ttlMs} * interval '1 millisecond'
      FROM prev
      WHERE c.id = prev.id
        AND (c."leaseOwner" IS NULL OR c."leaseUntil" IS NULL OR c."leaseUntil" <= ${NOW_UTC})
      RETURNING c.*, prev."leaseOwner" AS "previousOwner"`;
    const hit = rows[0];
    if (hit) {
      const { previousOwner, ...row } = hit;
      return { kind: 'taken', row: row as ConnectionRow, previousOwner };
    }
    const exists = await this.db.$queryRaw<unknown[]>`
      SELECT 1 FROM "Connection" WHERE id = ${connectionId}::uuid`;
    return exists.length > 0 ? { kind: 'held' } : { kind: 'not_found' };
  }

  /**
   * Pushes the lease's end to now + ttl. True while this owner still holds it: a lapsed lease
   * nobody else took is still safe to renew, since only a new owner could have presented the token.
   */
  async renew(connectionId: string, owner: string, ttlMs: number): Promise<boolean> {
    const count = await this.db.$executeRaw`
      UPDATE "Connection"
      SET "leaseUntil" = ${NOW_UTC} + ${ttlMs} * interval '1 millisecond'
      WHERE id = ${connectionId}::uuid AND "leaseOwner" = ${owner}`;
    return count === 1;
  }

  /** Clears the lease if this owner still holds it. */
  async release(connectionId: string, owner: string): Promise<boolean> {
    const count = await this.db.$executeRaw`
      UPDATE "Connection" SET "leaseOwner" = NULL, "leaseUntil" = NULL
      WHERE id = ${connectionId}::uuid AND "leaseOwner" = ${owner}`;
    return count === 1;
  }

  /** Whether someone holds an unlapsed lease on the connection right now. */
  async isHeld(connectionId: string): Promise<boolean> {
    const rows = await this.db.$queryRaw<Array<{ held: boolean }>>`
      SELECT ("leaseOwner" IS NOT NULL AND "leaseUntil" > ${NOW_UTC}) AS held
      FROM "Connection" WHERE id = ${connectionId}::uuid`;
    return rows[0]?.held ?? false;
  }
}
