// The revocation outbox: one row per grant to revoke at the provider after a disconnect, written
// in the disconnect's own transaction (the tokens' vault ciphertext moves from the connection to
// the row), then claimed by whoever attempts it — the api right after answering, the worker's
// drain on every retry — with FOR UPDATE SKIP LOCKED and a lease, so no two attempts run at once
// and a row whose attempt died comes back when its lease runs out.
import type { ProviderKey } from '@conduit/core';
import type { Prisma, PrismaClient, RevocationStatus } from './generated/client.ts';

export interface ClaimedRevocation {
  id: string;
  connectionId: string | null;
  provider: ProviderKey;
  accessTokenEnc: string | null;
  refreshTokenEnc: string | null;
  /** this attempt's number (counted at the claim) */
  attempts: number;
  createdAt: Date;
}

export type FinishedRevocation = Extract<RevocationStatus, 'revoked' | 'gave_up'>;

export class GrantRevocationRepository {
  constructor(private readonly db: PrismaClient) {}

  /** Inside the disconnect's transaction: the grant is queued with the tokens it takes. */
  static async enqueue(
    tx: Prisma.TransactionClient,
    row: {
      connectionId: string;
      provider: ProviderKey;
      accessTokenEnc: string | null;
      refreshTokenEnc: string | null;
      at: Date;
    },
  ): Promise<string> {
    const { at, ...fields } = row;
    const created = await tx.grantRevocation.create({
      data: { ...fields, nextAttemptAt: at, createdAt: at },
      select: { id: true },
    });
    return created.id;
  }

  /** Due pending rows, each leased until `now + leaseMs` and its attempt counted. */
  claimDue(args: { now: Date; leaseMs: number; limit: number }): Promise<ClaimedRevocation[]> {
    const leaseUntil = new Date(args.now.getTime() + args.leaseMs);
    return this.db.$queryRaw<ClaimedRevocation[]>`
      UPDATE "GrantRevocation"
      SET "nextAttemptAt" = ${leaseUntil}, attempts = attempts + 1
      WHERE id IN (
        SELECT id FROM "GrantRevocation"
        WHERE status = 'pending'::"RevocationStatus" AND "nextAttemptAt" <= ${args.now}
        ORDER BY "nextAttemptAt", id
        LIMIT ${args.limit}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING id, "connectionId", provider::text AS provider, "accessTokenEnc", "refreshTokenEnc",
        attempts, "createdAt"`;
  }

  /** One row by id, claimed as claimDue would (the api's attempt right after the disconnect). */
  async claimOne(id: string, args: { now: Date; leaseMs: number }): Promise<ClaimedRevocation | null> {
    const leaseUntil = new Date(args.now.getTime() + args.leaseMs);
    const rows = await this.db.$queryRaw<ClaimedRevocation[]>`
      UPDATE "GrantRevocation"
      SET "nextAttemptAt" = ${leaseUntil}, attempts = attempts + 1
      WHERE id IN (
        SELECT id FROM "GrantRevocation"
        WHERE id = ${id}::uuid AND status = 'pending'::"RevocationStatus" AND "nextAttemptAt" <= ${args.now}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING id, "connectionId", provider::text AS provider, "accessTokenEnc", "refreshTokenEnc",
        attempts, "createdAt"`;
    return rows[0] ?? null;
  }

  /**
   * The end of it: revoked, or given up. The tokens' ciphertext goes with it. Written only while
   * the row is still on the claimed attempt (compare-and-set on `attempts`).
   */
  async finish(
    id: string,
    claimedAttempts: number,
    outcome: { status: FinishedRevocation; lastError: string | null; at: Date },
  ): Promise<boolean> {
    const { count } = await this.db.grantRevocation.updateMany({
      where: { id, status: 'pending', attempts: claimedAttempts },
      data: {
        status: outcome.status,
        lastError: outcome.lastError,
        finishedAt: outcome.at,
        accessTokenEnc: null,
        refreshTokenEnc: null,
      },
    });
    return count === 1;
  }

  /** A failed attempt: the next one is due at `nextAttemptAt`. */
  async retryLater(
    id: string,
    claimedAttempts: number,
    failure: { lastError: string; nextAttemptAt: Date },
  ): Promise<boolean> {
    const { count } = await this.db.grantRevocation.updateMany({
      where: { id, status: 'pending', attempts: claimedAttempts },
      data: failure,
    });
    return count === 1;
  }

  /**
   * The user connected again: what is still pending for the old grant is dropped (at providers that
   * revoke per user and app, such as Google, it would take the new grant along).
   */
  static async supersede(tx: Prisma.TransactionClient, connectionId: string, at: Date): Promise<number> {
    const { count } = await tx.grantRevocation.updateMany({
      where: { connectionId, status: 'pending' },
      data: {
        status: 'superseded',
        finishedAt: at,
        lastError: 'the user connected again first',
        accessTokenEnc: null,
        refreshTokenEnc: null,
      },
    });
    return count;
  }

  listFor(connectionId: string) {
    return this.db.grantRevocation.findMany({
      where: { connectionId },
      orderBy: { createdAt: 'asc' },
      select: {
        id: true,
        provider: true,
        status: true,
        attempts: true,
        nextAttemptAt: true,
        lastError: true,
        createdAt: true,
        finishedAt: true,
      },
    });
  }
}
