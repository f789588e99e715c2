// Grouped commits of refreshed tokens: an answer that arrives while no write is in flight is
// written at once, alone; answers that arrive while one is in flight wait for it and then go
// together in the next statement (group commit: one statement, one WAL flush, for all of them).
// So grouping never makes the answer-to-commit window longer than one write in flight, and under
// load it makes it shorter, since the writes no longer queue one by one for pool connections.
//
// A write that fails (Postgres restarting, unreachable, a statement timeout) is retried with
// backoff until it lands, with a warn line per failed attempt; its tokens are in the rescue slot
// meanwhile. The caller learns, per row, whether this write stored it; a row it did not store
// (compare-and-set missed, or locked by another session) is the caller's to look at alone.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RefreshStore, StoreEntry } from '@conduit/db';
import type { Logger } from 'pino';

/** Most rows one statement writes (bounds its size and how long it holds row locks). */
const MAX_GROUP = 200;

interface Pending {
  entry: StoreEntry;
  resolve: (stored: boolean) => void;
}

export class RefreshCommits {
  private queue: Pending[] = [];
  private writing = false;

  constructor(
    private readonly db: RefreshStore,
    private readonly logger: Logger,
    private readonly options: { retryMaxMs: number },
  ) {}

  /** Resolves once the row's write has landed: true if it was stored, false if the caller must look at it. */
  store(entry: StoreEntry): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.queue.push({ entry, resolve });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, MAX_GROUP);
        const stored = await this.writeUntilLanded(group.map((p) => p.entry));
        for (const p of group) p.resolve(stored.has(p.entry.conn.id));
      }
    } finally {
      this.writing = false;
    }
  }

  private async writeUntilLanded(entries: StoreEntry[]): Promise<Set<string>> {
    for (let attempt = 1; ; attempt++) {
      try {
        const stored = await this.db.storeRefreshed(entries);
        if (attempt > 1) {
          this.logger.info(
            { rows: entries.length, attempts: attempt },
            'refresh: the refreshed tokens are stored after retrying',
          );
        }
        return stored;
      } catch (err) {
        // A fault of the data, not of the database (nothing of ours should cause one): hand every
        // row to the single-row write, which retries each on its own.
        if (isDataError(err)) {
          this.logger.warn(
            { rows: entries.length, err: (err as Error).message },
            'refresh: the grouped write of refreshed tokens was refused; storing them one by one',
          );
          return new Set();
        }
        const delayMs = Math.min(this.options.retryMaxMs, 100 * 2 ** Math.min(attempt - 1, 10));
        this.logger.warn(
          { rows: entries.length, attempt, retryInMs: delayMs, err: (err as Error).message },
          'refresh: storing the refreshed tokens failed; retrying (rescue copies are kept meanwhile)',
        );
        await sleep(delayMs);
      }
    }
  }
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation). */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
