// Refresh leases as their holder sees them: taken for a whole batch of connections with the rows
// they guard (one statement), kept alive while the refreshes run (call and commit; one statement
// renews them all), and checked, row by row, against this process's monotonic clock before a
// refresh token is presented. `leaseUntil` is set by Postgres *after* the statement was sent, so
// "sent at + ttl" is a bound each lease surely outlives: a holder that was paused (GC, CPU
// starvation, SIGSTOP) sees that on resuming, and renews or backs off instead of presenting.
// A row whose renewal did not land (another owner took it, or another session has it locked right
// now) keeps its older bound, so it can only ever be presented on a lease known to be ours.
import { randomBytes } from 'node:crypto';
import type { ConnectionLeases, ConnectionRow, LeasedRow, RefreshStore } from '@conduit/db';
import type { Logger } from 'pino';

export class LeaseSet {
  /** per row: performance.now() when the statement that last pushed its `leaseUntil` out was sent */
  private readonly validFrom = new Map<string, number>();
  /** rows whose commit cleared the lease in the same statement */
  private readonly cleared = new Set<string>();
  /** rows whose answer is being stored: a renewal that misses them raced that commit */
  private readonly committing = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(
    private readonly store: RefreshStore,
    readonly owner: string,
    private readonly ttlMs: number,
    private readonly logger: Logger,
  ) {}

  static async take(
    store: RefreshStore,
    ids: readonly string[],
    ttlMs: number,
    logger: Logger,
  ): Promise<{ leases: LeaseSet; taken: LeasedRow[]; busy: string[]; notFound: string[] }> {
    const owner = randomBytes(12).toString('base64url');
    const leases = new LeaseSet(store, owner, ttlMs, logger);
    const sentAt = performance.now();
    const result = await store.takeLeases(ids, owner, ttlMs);
    for (const t of result.taken) leases.validFrom.set(t.row.id, sentAt);
    return { leases, ...result };
  }

  /** How long the lease of `id` surely has left, by this process's clock (negative: it may have lapsed). */
  remainingMs(id: string): number {
    const from = this.validFrom.get(id);
    return from === undefined ? -Infinity : this.ttlMs - (performance.now() - from);
  }

  /**
   * Whether this holder may start something on `id` that needs `neededMs` of lease. When less
   * than `renewBelowMs` is left (the process paused since the lease was last pushed out), it
   * renews first. False: another process may own it now, or too little is left even after
   * renewing (a renewal that itself took long): the refresh token must not go out.
   */
  async ensure(id: string, neededMs: number, renewBelowMs = neededMs): Promise<boolean> {
    if (this.remainingMs(id) < Math.max(neededMs, renewBelowMs)) {
      if (!(await this.renew([id])).has(id)) return false;
    }
    return this.remainingMs(id) >= neededMs;
  }

  /** Pushes the leases of `ids` (default: every one not cleared) out by a ttl; returns those renewed. */
  async renew(ids: readonly string[] = this.held()): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const sentAt = performance.now();
    const renewed = await this.store.renewLeases(ids, this.owner, this.ttlMs);
    for (const id of renewed) this.validFrom.set(id, sentAt);
    return renewed;
  }

  /** Renews every `everyMs` until stopped; a failed renewal is logged, and the next one tried. */
  keepAlive(everyMs: number): void {
    const tick = () => {
      this.timer = setTimeout(() => {
        const ids = this.held();
        this.renew(ids).then(
          (renewed) => {
            if (this.stopped) return;
            for (const id of ids) {
              if (renewed.has(id) || this.cleared.has(id) || this.committing.has(id)) continue;
              if (this.remainingMs(id) > 0) continue; // locked by another session right now: tried again next tick
              this.logger.warn(
                { connectionId: id },
                'refresh: the lease could not be renewed and has lapsed while this refresh ran (this process stalled, or the row stayed locked)',
              );
            }
            tick();
          },
          (err: Error) => {
            if (this.stopped) return;
            this.logger.warn({ err: err.message, leases: ids.length }, 'refresh: renewing the leases failed; trying again');
            tick();
          },
        );
      }, everyMs);
      this.timer.unref();
    };
    tick();
  }

  markCommitting(id: string): void {
    this.committing.add(id);
  }

  /** The commit that stored `id`'s answer also ended its lease. */
  markCleared(id: string): void {
    this.cleared.add(id);
  }

  isCleared(id: string): boolean {
    return this.cleared.has(id);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Ends every lease the commits did not; a failure leaves them to lapse by themselves. */
  async release(): Promise<void> {
    this.stop();
    const ids = this.held();
    if (ids.length === 0) return;
    try {
      for (const id of await this.store.releaseLeases(ids, this.owner)) this.cleared.add(id);
    } catch (err) {
      this.logger.warn(
        { err: (err as Error).message, leases: ids.length },
        'refresh: releasing the leases failed; they lapse by themselves',
      );
    }
  }

  private held(): string[] {
    return [...this.validFrom.keys()].filter((id) => !this.cleared.has(id));
  }
}

export type TakenLease =
  | { kind: 'taken'; lease: RefreshLease; row: ConnectionRow; previousOwner: string | null }
  | { kind: 'held' }
  | { kind: 'not_found' };

/** The lease of one connection: a LeaseSet of one row (the CLI's deactivate-expired, tests). */
export class RefreshLease {
  private constructor(
    private readonly set: LeaseSet,
    readonly connectionId: string,
  ) {}

  static async take(
    leases: ConnectionLeases,
    connectionId: string,
    ttlMs: number,
    logger: Logger,
  ): Promise<TakenLease> {
    const { leases: set, taken, notFound } = await LeaseSet.take(leases.store, [connectionId], ttlMs, logger);
    const hit = taken[0];
    if (!hit) return notFound.length > 0 ? { kind: 'not_found' } : { kind: 'held' };
    return { kind: 'taken', lease: new RefreshLease(set, connectionId), row: hit.row, previousOwner: hit.previousOwner };
  }

  get owner(): string {
    return this.set.owner;
  }

  remainingMs(): number {
    return this.set.remainingMs(this.connectionId);
  }

  ensure(neededMs: number, renewBelowMs = neededMs): Promise<boolean> {
    return this.set.ensure(this.connectionId, neededMs, renewBelowMs);
  }

  async renew(): Promise<boolean> {
    return (await this.set.renew([this.connectionId])).has(this.connectionId);
  }

  keepAlive(everyMs: number): void {
    this.set.keepAlive(everyMs);
  }

  release(): Promise<void> {
    return this.set.release();
  }
}
