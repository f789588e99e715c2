// Failed sign-ins (operator passwords, API keys, the metrics token) are counted per client IP
// and per operator name with @fastify/rate-limit's limiter, in Redis (server.ts gives the plugin
// its Redis store), so every api process adds to the same counts. Only failures count, so
// operators and the app are never slowed by their own traffic. Once a count passes its limit,
// that client or name is locked out until the window ends: every sign-in is refused with 429
// before its credentials are even checked, so a right guess during a lockout tells the guesser
// nothing. A lockout is kept in this process's memory, where checking it costs nothing, and
// published to every other api process (Redis pub/sub), which keep it too.
// Redis down or slow: the store's error is skipped (skipOnError), the failure is answered without
// being counted, and lockouts already known still hold. Nothing waits on Redis longer than
// CONDUIT_SIGNIN_STORE_TIMEOUT_MS.
// Each failure is logged at warn with the name that was tried, never the secret.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RedisClient } from '@conduit/jobs';
import type { ApiConfig } from '@conduit/config';
import { HttpProblem } from '../problem.ts';

export type SignInKind = 'operator' | 'api-key' | 'metrics-token';

export interface SignInThrottle {
  /** a 429 (Retry-After set on the reply) when this client or name is locked out */
  lockedOut(req: FastifyRequest, reply: FastifyReply, name?: string): HttpProblem | null;
  /** counts a failure; a 429 (Retry-After set) when it crossed a limit, else null */
  failed(
    req: FastifyRequest,
    reply: FastifyReply,
    kind: SignInKind,
    name?: string,
  ): Promise<HttpProblem | null>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** counts failed sign-ins and refuses locked-out clients and names (edge/sign-in-throttle.ts) */
    signInThrottle: SignInThrottle;
  }
}

const NAME = Symbol('sign-in name');
type Named = FastifyRequest & { [NAME]?: string };
/** bounds the lockout table under a flood of distinct names */
const MAX_LOCKOUTS = 10_000;

/** Where lockouts go to (and come from) the other api processes. */
export interface LockoutChannel {
  /** a client that fails fast (no offline queue, a command timeout) */
  publisher: RedisClient;
  /** a client of its own in subscriber mode */
  subscriber: RedisClient;
  name: string;
}

export function createSignInThrottle(
  app: FastifyInstance,
  settings: ApiConfig['signIn'],
  channel?: LockoutChannel,
): SignInThrottle {
  const timeWindow = settings.windowSeconds * 1000;
  const perClient = app.createRateLimit({
    max: settings.maxPerClient,
    timeWindow,
    keyGenerator: (req) => `client:${req.ip}`,
  });
  const perName = app.createRateLimit({
    max: settings.maxPerName,
    timeWindow,
    keyGenerator: (req) => `name:${(req as Named)[NAME] ?? ''}`,
  });
  const lockouts = new Map<string, number>();

  function refusal(reply: FastifyReply, until: number, what: string): HttpProblem {
    const seconds = Math.max(1, Math.ceil((until - Date.now()) / 1000));
    reply.header('retry-after', String(seconds));
    return new HttpProblem(
      429,
      'too-many-sign-in-failures',
      'Too many failed sign-ins',
      `${what} failed to sign in too often; try again in ${seconds} s`,
      { retryAfterSeconds: seconds },
    );
  }

  function keep(key: string, ttlMs: number): number {
    if (lockouts.size >= MAX_LOCKOUTS) {
      const now = Date.now();
      for (const [k, until] of lockouts) if (until <= now) lockouts.delete(k);
      if (lockouts.size >= MAX_LOCKOUTS) lockouts.delete(lockouts.keys().next().value!);
    }
    const until = Date.now() + ttlMs;
    lockouts.set(key, Math.max(until, lockouts.get(key) ?? 0));
    return until;
  }

  function lock(key: string, ttlMs: number): number {
    // The time left, not the moment it ends: the other processes' clocks need not agree with ours.
    channel?.publisher
      .publish(channel.name, JSON.stringify({ key, ttlMs }))
      .catch((err: Error) =>
        app.log.warn({ err: err.message }, 'sign-in lockout not shared with the other api processes'),
      );
    return keep(key, ttlMs);
  }

  if (channel) {
    channel.subscriber.on('message', (from: string, message: string) => {
      if (from !== channel.name) return;
      try {
        const { key, ttlMs } = JSON.parse(message) as { key: unknown; ttlMs: unknown };
        if (typeof key === 'string' && typeof ttlMs === 'number' && ttlMs > 0)
          keep(key, Math.min(ttlMs, timeWindow));
      } catch {
        // not one of ours
      }
    });
    channel.subscriber
      .subscribe(channel.name)
      .catch((err: Error) =>
        app.log.warn({ err: err.message }, 'sign-in lockouts of the other api processes not received'),
      );
  }

  function lockedUntil(key: string): number | null {
    const until = lockouts.get(key);
    if (until === undefined) return null;
    if (until > Date.now()) return until;
    lockouts.delete(key);
    return null;
  }

  return {
    lockedOut(req, reply, name) {
      const client = lockedUntil(`client:${req.ip}`);
      if (client !== null) return refusal(reply, client, 'this client');
      if (name !== undefined) {
        const named = lockedUntil(`name:${name}`);
        if (named !== null) return refusal(reply, named, `"${name}"`);
      }
      return null;
    },
    async failed(req, reply, kind, name) {
      (req as Named)[NAME] = name;
      const [client, named] = await Promise.all([
        perClient(req),
        name !== undefined ? perName(req) : Promise.resolve(null),
      ]);
      req.log.warn(
        {
          signIn: kind,
          ...(name !== undefined && { name: name.slice(0, 64) }),
          ip: req.ip,
          ...(!client.isAllowed && { clientFailures: client.max - client.remaining }),
        },
        'sign-in failed',
      );
      if (!client.isAllowed && client.isExceeded) {
        return refusal(reply, lock(`client:${req.ip}`, client.ttl), 'this client');
      }
      if (named && !named.isAllowed && named.isExceeded && name !== undefined) {
        return refusal(reply, lock(`name:${name}`, named.ttl), `"${name}"`);
      }
      return null;
    },
  };
}
