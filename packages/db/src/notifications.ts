// The Notification outbox as the delivery worker sees it: claim due rows, then record what the
// receiver answered. Rows are written by status changes (status-change.ts) and sweeps; here they
// are only moved along pending → delivered | dead.
import type { Prisma, PrismaClient } from './generated/client.ts';

export interface ClaimedNotification {
  id: string;
  type: string;
  payload: Prisma.JsonValue;
  createdAt: Date;
  /** attempts made, counting the one this claim starts */
  attempts: number;
}

export interface FailedAttempt {
  lastError: string;
  /** the next try; ignored when `dead` */
  nextAttemptAt: Date;
  /** no attempts left: the row stays visible as `dead` and is never tried again */
  dead: boolean;
}

export class NotificationRepository {
  constructor(private readonly db: PrismaClient) {}

  /**
   * Claims up to `limit` due rows for `leaseMs`, safely across worker processes: the inner
   * SELECT … FOR UPDATE SKIP LOCKED makes concurrent claimers take disjoint rows, and moving
   * `nextAttemptAt` past the lease hides the row from them until the lease runs out — so a
   * worker that dies mid-delivery only delays the row, it is tried again (at least once).
   * The attempt is counted here, when it starts, so even a row that kills its worker runs out.
   */
  claimDue(args: { now: Date; leaseMs: number; limit: number }): Promise<ClaimedNotification[]> {
    const leaseUntil = new Date(args.now.getTime() + args.leaseMs);
    return this.db.$queryRaw<ClaimedNotification[]>`
      UPDATE "Notification"
      SET "nextAttemptAt" = ${leaseUntil}, attempts = attempts + 1
      WHERE id IN (
        SELECT id FROM "Notification"
        WHERE status = 'pending'::"NotificationStatus" AND "nextAttemptAt" <= ${args.now}
        ORDER BY "nextAttemptAt", id
        LIMIT ${args.limit}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING id, type, payload, "createdAt", attempts`;
  }

  /**
   * A 2xx from the receiver. Recorded even if the lease lapsed and another worker holds the row
   * meanwhile: delivered is delivered (the receiver dedupes by webhook-id).
   */
  async markDelivered(id: string, at: Date): Promise<boolean> {
    const { count } = await this.db.notification.updateMany({
      where: { id, status: 'pending' },
      data: { status: 'delivered', deliveredAt: at, lastError: null },
    });
    return count === 1;
  }

  /**
   * A failed attempt, written only if the row is still on the attempt this worker claimed
   * (compare-and-set on `attempts`): after a lapsed lease another worker's result wins.
   */
  async recordFailure(id: string, claimedAttempts: number, failure: FailedAttempt): Promise<boolean> {
    const { count } = await this.db.notification.updateMany({
      where: { id, status: 'pending', attempts: claimedAttempts },
      data: failure.dead
        ? { status: 'dead', lastError: failure.lastError }
        : { lastError: failure.lastError, nextAttemptAt: failure.nextAttemptAt },
    });
    return count === 1;
  }
}
