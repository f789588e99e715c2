// How many refreshes of one provider a process runs at once, whichever jobs or callers they come
// from (batch jobs, single jobs, inline callers): `CONDUIT_REFRESH_CONCURRENCY` per lane. A batch
// holds a slot per connection from its first check to its stored answer, so the number of token
// requests in flight, and the database work behind them, stays the same however the work is cut
// into jobs.
import pLimit, { type LimitFunction } from 'p-limit';

export class LaneSlots {
  private readonly lanes = new Map<string, LimitFunction>();

  constructor(private readonly perLane: number) {}

  run<T>(provider: string, fn: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(provider);
    if (!lane) {
      lane = pLimit(this.perLane);
      this.lanes.set(provider, lane);
    }
    return lane(fn);
  }
}
