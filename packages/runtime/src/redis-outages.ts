// Redis trouble, logged once per outage. ioredis emits `error` on every reconnect attempt, each
// BullMQ Queue and Worker forwards it again, and BullMQ prints the stack of any `error` nobody
// listens to: an outage of a minute was thousands of identical traces. Here it is one warn line
// when the connection is lost (host:port and the error code) and one info line when every
// connection of the process is back, with how long it was down.
import type { Logger } from '@conduit/observability';
import type { RedisClient } from '@conduit/jobs';

/** What BullMQ's Queue, Worker, QueueEvents and FlowProducer have in common. */
export interface ErrorEmitter {
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** Socket-level failures: Redis is unreachable or dropped us, not a command that failed. */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);

/** ioredis and BullMQ errors that carry no code but mean the same thing. */
const CONNECTION_ERROR_MESSAGES = [
  /^Connection is closed/,
  /^Stream isn't writeable/,
  /^Reached the max retries per request limit/,
  /^connect ETIMEDOUT/,
];

/** The error code, also from Node's AggregateError when both IPv4 and IPv6 were refused. */
export function errorCode(err: Error): string | undefined {
  const own = (err as NodeJS.ErrnoException).code;
  if (typeof own === 'string') return own;
  const inner = (err as Partial<AggregateError>).errors?.[0] as NodeJS.ErrnoException | undefined;
  return typeof inner?.code === 'string' ? inner.code : undefined;
}

export function isConnectionError(err: Error): boolean {
  const code = errorCode(err);
  if (code !== undefined && CONNECTION_ERROR_CODES.has(code)) return true;
  return CONNECTION_ERROR_MESSAGES.some((re) => re.test(err.message));
}

/** `host:port` of a Redis URL, never its user or password. */
export function redisEndpoint(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return 'redis (unparseable REDIS_URL)';
  }
}

/** ioredis states of a client that is not connected (`wait` is a lazy client not yet used). */
const DISCONNECTED = new Set(['connecting', 'connect', 'reconnecting', 'close']);

export class RedisOutageLog {
  private readonly clients = new Set<RedisClient>();
  private outage: { since: number; errors: number } | undefined;
  /** when a watched connection last dropped, before its first failed reconnect said so */
  private droppedAt: number | undefined;
  private everConnected = false;

  constructor(
    private readonly logger: Logger,
    /** `host:port` (a cluster's: `host:port,host:port`), see {@link redisEndpoint} */
    readonly endpoint: string,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * An ioredis client of this process: its errors are reported once per outage, and the outage
   * ends only when it (and every other watched client) is ready again. Its duplicates are
   * watched too, which covers the blocking connection BullMQ opens for each Worker.
   */
  watchClient<C extends RedisClient>(client: C, source: string): C {
    this.clients.add(client);
    client.on('error', (err: Error) => this.onError(err, source, client));
    client.on('close', () => {
      if (client.status !== 'end') this.droppedAt ??= this.now();
    });
    client.on('connecting', () => this.clients.add(client));
    client.on('ready', () => {
      this.everConnected = true;
      this.clients.add(client);
      this.settle();
    });
    // closed on purpose (or given up): it no longer holds an outage open
    client.on('end', () => {
      this.clients.delete(client);
      this.settle();
    });
    // A Cluster's duplicate takes (startupNodes, options), a server's (options): pass them on.
    const duplicate = (client.duplicate as (...args: unknown[]) => C).bind(client);
    client.duplicate = ((...args: unknown[]) =>
      this.watchClient(duplicate(...args), `${source}+`)) as C['duplicate'];
    return client;
  }

  /**
   * A BullMQ Queue, Worker, QueueEvents or FlowProducer. Listening is also what keeps BullMQ
   * from printing a stack trace for each error nobody listens to.
   */
  watch<T extends ErrorEmitter>(emitter: T, source: string): T {
    emitter.on('error', (err: Error) => this.onError(err, source));
    return emitter;
  }

  /** Whether an outage is in progress (for health answers and tests). */
  get down(): boolean {
    return this.outage !== undefined;
  }

  /** `client`: the watched ioredis client that emitted it; none for a BullMQ object's error */
  private onError(err: Error, source: string, client?: RedisClient): void {
    if (this.outage) {
      this.outage.errors += 1;
      return;
    }
    // A client that cannot connect is an outage whatever its error (a refused AUTH too, which
    // repeats on every attempt); otherwise only socket errors are. The rest, e.g. a job lock
    // BullMQ could not renew, is one line each, its message without the stack.
    const connecting = client !== undefined && DISCONNECTED.has(client.status);
    if (!connecting && !isConnectionError(err)) {
      this.logger.error({ redis: this.endpoint, source, err: err.message }, `${source}: error`);
      return;
    }
    // Every connection is up: a reset the reconnect heals at once, or a late error BullMQ
    // forwards after the outage ended. If the connection stays down, its reconnects say so.
    if (this.allConnected()) return;
    this.outage = { since: this.droppedAt ?? this.now(), errors: 1 };
    const fields = { redis: this.endpoint, code: errorCode(err) ?? err.message, source };
    // Never connected yet: whoever starts the process decides how long to wait and says so
    // (the CLI in one sentence), so this is only information.
    if (!this.everConnected) this.logger.info(fields, 'redis not reachable yet; retrying quietly');
    else this.logger.warn(fields, 'redis connection lost; retrying quietly until it is back');
  }

  private settle(): void {
    if (!this.allConnected()) return;
    const outage = this.outage;
    this.outage = undefined;
    this.droppedAt = undefined;
    if (!outage) return;
    this.logger.info(
      { redis: this.endpoint, downMs: this.now() - outage.since, errors: outage.errors },
      'redis connection back',
    );
  }

  private allConnected(): boolean {
    for (const c of this.clients) if (DISCONNECTED.has(c.status)) return false;
    return true;
  }
}
