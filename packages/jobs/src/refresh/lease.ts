// A refresh lease as its holder sees it: taken with the row it guards, kept alive while the
// refresh runs (call and commit), and checked against this process's monotonic clock before the
// refresh token is presented. `leaseUntil` is set by Postgres *after* the statement was sent, so
// "sent at + ttl" is a bound the lease surely outlives: a holder that was paused (GC, CPU
// starvation, SIGSTOP) sees that on resuming, and renews or backs off instead of presenting.
import { randomBytes } from 'node:crypto';
import type { ConnectionLeases, ConnectionRow } from '@conduit/db';
import type { Logger } from 'pino';

export type TakenLease =
  | { kind: 'taken'; lease: RefreshLease; row: ConnectionRow; previousOwner: string | null }
  | { kind: 'held' }
  | { kind: 'not_found' };

export class RefreshLease {
  /** performance.now() when the statement that last pushed `leaseUntil` out was sent */
  private validFrom: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** the commit that stored the answer cleared the lease in the same statement */
  cleared = false;
  /** the answer is being stored: a renewal that finds the lease gone raced that commit, and the commit's outcome says the rest */
  committing = false;

  private constructor(
    private readonly leases: ConnectionLeases,
    readonly connectionId: string,
    readonly owner: string,
    private readonly ttlMs: number,
    validFrom: number,
    private readonly logger: Logger,
  ) {
    this.validFrom = validFrom;
  }

  static async take(
    leases: ConnectionLeases,
    connectionId: string,
    ttlMs: number,
    logger: Logger,
  ): Promise<TakenLease> {
    const owner = randomBytes(12).toString('base64url');
    const sentAt = performance.now();
    const taken = await leases.take(connectionId, owner, ttlMs);
    if (taken.kind !== 'taken') return taken;
    return {
      kind: 'taken',
      lease: new RefreshLease(leases, connectionId, owner, ttlMs, sentAt, logger),
      row: taken.row,
      previousOwner: taken.previousOwner,
    };
  }

  /** How long the lease surely has left, by this process's clock (negative: it may have lapsed). */
  remainingMs(): number {
    return this.ttlMs - (performance.now() - this.validFrom);
  }

  /**
   * Whether this holder may start something that needs `neededMs` of lease. When less than
   * `renewBelowMs` is left (the process paused since the lease was last pushed out), it renews
   * first. False means another process may own it now, or too little is left even after renewing
   * (a renewal that itself took long): the refresh token must not go out.
   */
  async ensure(neededMs: number, renewBelowMs = neededMs): Promise<boolean> {
    if (this.remainingMs() < Math.max(neededMs, renewBelowMs) && !(await this.renew())) return false;
    return this.remainingMs() >= neededMs;
  }

  /** Pushes the lease out by a ttl; false once another process has taken it. */
  async renew(): Promise<boolean> {
    const sentAt = performance.now();
    const ok = await this.leases.renew(this.connectionId, this.owner, this.ttlMs);
    if (ok) this.validFrom = sentAt;
    return ok;
  }

  /** Renews every `everyMs` until stopped; a failed renewal is logged, and the next one tried. */
  keepAlive(everyMs: number): void {
    const tick = () => {
      this.timer = setTimeout(() => {
        this.renew().then(
          (ok) => {
            if (this.stopped) return;
            if (!ok) {
              if (this.cleared || this.committing) return;
              this.logger.warn(
                { connectionId: this.connectionId },
                'refresh: the lease was taken by another process while this refresh ran (this one stalled past it)',
              );
              return;
            }
            tick();
          },
          (err: Error) => {
            if (this.stopped) return;
            this.logger.warn(
              { connectionId: this.connectionId, err: err.message },
              'refresh: renewing the lease failed; trying again',
            );
            tick();
          },
        );
      }, everyMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Ends the lease unless the commit already did; a failure leaves it to lapse by itself. */
  async release(): Promise<void> {
    this.stop();
    if (this.cleared) return;
    try {
      this.cleared = await this.leases.release(this.connectionId, this.owner);
    } catch (err) {
      this.logger.warn(
        { connectionId: this.connectionId, err: (err as Error).message },
        'refresh: releasing the lease failed; it lapses by itself',
      );
    }
  }
}
