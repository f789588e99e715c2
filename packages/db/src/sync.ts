// Sync bookkeeping: the cursor of each (connection, resource) and one SyncRun row per sync.
// A page of items and the cursor that follows it are written in one transaction, so after a
// crash the cursor never points past what is stored (no gap) and re-reading a page is harmless
// (upserts, no duplicates).
import type { ProviderKey } from '@conduit/core';
import type { PrismaClient, SyncMode, SyncOutcome, SyncRun } from './generated/client.ts';
import { upsertMeetings, type MeetingInput, type MeetingNotifyOptions } from './meetings.ts';

export interface StoredPage {
  connectionId: string;
  resource: string;
  runId: string;
  meetings: readonly MeetingInput[];
  /** the cursor to resume from once this page is stored */
  cursor: string;
}

export class SyncRepository {
  constructor(
    private readonly db: PrismaClient,
    private readonly options: MeetingNotifyOptions = {},
  ) {}

  async readCursor(connectionId: string, resource: string): Promise<string | null> {
    const row = await this.db.syncState.findUnique({
      where: { connectionId_resource: { connectionId, resource } },
      select: { cursor: true },
    });
    return row?.cursor ?? null;
  }

  async startRun(connectionId: string, resource: string, mode: SyncMode, now: Date): Promise<string> {
    const run = await this.db.syncRun.create({
      data: { connectionId, resource, mode, startedAt: now },
      select: { id: true },
    });
    return run.id;
  }

  findRun(runId: string): Promise<SyncRun | null> {
    return this.db.syncRun.findUnique({ where: { id: runId } });
  }

  /**
   * Runs still `running` that are not `keep`: their worker died (the per-user lock is held by the
   * caller, so nobody else runs them). They end as failed, saying so.
   */
  async closeAbandonedRuns(connectionId: string, resource: string, keep: string, now: Date): Promise<number> {
    const { count } = await this.db.syncRun.updateMany({
      where: { connectionId, resource, outcome: 'running', id: { not: keep } },
      data: {
        outcome: 'failed',
        finishedAt: now,
        error: 'interrupted: the worker stopped mid-sync; a later run resumed from the stored cursor',
      },
    });
    return count;
  }

  /** The page's meetings, the next cursor and the run's counters, together. Returns how many meetings were new. */
  async storeMeetingsPage(page: StoredPage, now: Date): Promise<number> {
    return this.db.$transaction(async (tx) => {
      const inserted = await upsertMeetings(tx, page.connectionId, page.meetings, this.options);
      await tx.syncState.upsert({
        where: { connectionId_resource: { connectionId: page.connectionId, resource: page.resource } },
        create: {
          connectionId: page.connectionId,
          resource: page.resource,
          cursor: page.cursor,
          lastSyncedAt: now,
        },
        update: { cursor: page.cursor, lastSyncedAt: now },
      });
      await tx.syncRun.update({
        where: { id: page.runId },
        data: {
          pages: { increment: 1 },
          itemsSeen: { increment: page.meetings.length },
          itemsStored: { increment: inserted },
        },
      });
      return inserted;
    });
  }

  /**
   * Ends the run and notes the result on the connection. `lastSync*` are not token columns, so
   * this does not touch `version` and cannot make a concurrent refresh lose its compare-and-set.
   */
  async finishRun(
    run: { id: string; connectionId: string },
    result: { outcome: Exclude<SyncOutcome, 'running'>; error: string | null },
    now: Date,
  ): Promise<void> {
    await this.db.$transaction([
      this.db.syncRun.update({
        where: { id: run.id },
        data: { outcome: result.outcome, error: result.error, finishedAt: now },
      }),
      this.db.connection.update({
        where: { id: run.connectionId },
        data:
          result.outcome === 'failed'
            ? { lastSyncError: result.error }
            : { lastSyncAt: now, lastSyncError: result.error },
      }),
    ]);
  }

  /** Fills in an account email learned later (Fathom: from the meetings' recorder). */
  async noteExternalEmail(connectionId: string, email: string): Promise<void> {
    await this.db.$executeRaw`
      UPDATE "Connection" SET "externalEmail" = ${email}
      WHERE id = ${connectionId}::uuid AND "externalEmail" IS NULL`;
  }

  /** One batch of connected connections of a provider, by id after `after`: an index range scan on (provider, status, id). */
  async listSyncTargets(provider: ProviderKey, after: string | undefined, limit: number): Promise<string[]> {
    const rows = await this.db.connection.findMany({
      where: { provider, status: 'connected', ...(after !== undefined && { id: { gt: after } }) },
      select: { id: true },
      orderBy: { id: 'asc' },
      take: limit,
    });
    return rows.map((r) => r.id);
  }
}
