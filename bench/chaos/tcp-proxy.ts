// A small TCP proxy between the apps and a datastore (Postgres, Redis): every byte passes through
// unchanged and in order, and during a latency window each chunk, in each direction, is held
// back `latencyMs` plus up to `jitterMs` (never overtaking the chunk before it: TCP is a stream).
// A datastore that goes away takes the apps' connections with it, and while it is down a new
// connection is accepted and closed at once, as a load balancer in front of a dead host does.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface LatencyRule {
  latencyMs: number;
  jitterMs: number;
}

const NONE: LatencyRule = { latencyMs: 0, jitterMs: 0 };

/** How long one chunk is held back under `rule`, `random()` in [0, 1). */
export function delayOf(rule: LatencyRule, random: () => number): number {
  return rule.latencyMs + (rule.jitterMs > 0 ? random() * rule.jitterMs : 0);
}

/**
 * One direction of one connection: chunks leave in arrival order, each no earlier than its own
 * due time, so jitter delays a chunk without ever reordering the stream.
 */
export class DelayLine {
  private readonly queue: Array<{ at: number; chunk: Buffer }> = [];
  private timer: NodeJS.Timeout | undefined;
  private lastAt = 0;

  constructor(
    private readonly write: (chunk: Buffer) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  push(chunk: Buffer, delayMs: number): void {
    if (delayMs <= 0 && this.queue.length === 0) {
      this.write(chunk);
      return;
    }
    const at = Math.max(this.now() + delayMs, this.lastAt);
    this.lastAt = at;
    this.queue.push({ at, chunk });
    this.schedule();
  }

  /** Everything still queued, at once (the far side closed: nothing is gained by waiting). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const { chunk } of this.queue.splice(0)) this.write(chunk);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        const now = this.now();
        while (this.queue.length > 0 && this.queue[0]!.at <= now) this.write(this.queue.shift()!.chunk);
        this.schedule();
      },
      Math.max(0, this.queue[0]!.at - this.now()),
    );
  }
}

export class TcpProxy {
  private rule: LatencyRule = NONE;
  private readonly sockets = new Set<Socket>();
  /** connections accepted, and those closed at once because the target refused them */
  readonly stats = { accepted: 0, refusedUpstream: 0 };

  private constructor(
    private readonly server: Server,
    readonly targetPort: number,
    private readonly random: () => number,
  ) {}

  static async start(
    targetPort: number,
    { listenPort = 0, random = Math.random }: { listenPort?: number; random?: () => number } = {},
  ): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, targetPort, random);
    server.on('connection', (client) => proxy.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  setLatency(rule: LatencyRule): void {
    this.rule = rule;
  }

  clearLatency(): void {
    this.rule = NONE;
  }

  private accept(client: Socket): void {
    this.stats.accepted += 1;
    const upstream = connect({ port: this.targetPort, host: '127.0.0.1' });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.sockets.add(client);
    this.sockets.add(upstream);
    let connected = false;
    const toUpstream = new DelayLine((c) => upstream.write(c));
    const toClient = new DelayLine((c) => client.write(c));
    const close = () => {
      toUpstream.cancel();
      toClient.cancel();
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    upstream.once('connect', () => (connected = true));
    client.on('data', (c: Buffer) => toUpstream.push(c, delayOf(this.rule, this.random)));
    upstream.on('data', (c: Buffer) => toClient.push(c, delayOf(this.rule, this.random)));
    // A half-close passes through once what was sent before it has been delivered.
    client.once('end', () => {
      toUpstream.flush();
      upstream.end();
    });
    upstream.once('end', () => {
      toClient.flush();
      client.end();
    });
    // A client that dies (a SIGKILLed worker resets its sockets) does not unsend what it sent:
    // on a real network those bytes are still on the wire and arrive. They are delivered, then
    // the upstream side is ended; only what was going to the dead client is dropped.
    const clientGone = () => {
      toClient.cancel();
      client.destroy();
      this.sockets.delete(client);
      toUpstream.flush();
      upstream.end();
    };
    client.once('error', clientGone);
    client.once('close', clientGone);
    upstream.once('error', () => {
      if (!connected) this.stats.refusedUpstream += 1;
      close();
    });
    upstream.once('close', close);
  }

  /** Closes every connection and stops listening. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
