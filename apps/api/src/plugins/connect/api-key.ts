// The embedding app's API key: `Authorization: Bearer <key>` (or `x-api-key: <key>`), checked
// against every configured key (two while rotating) in constant time — digests of equal length
// are compared, and every key is compared every time. A wrong key counts as a failed sign-in of
// the client (keys have no names to count by); past the limit, 429 (edge/sign-in-throttle.ts).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SignInThrottle } from '../../edge/sign-in-throttle.ts';
import { HttpProblem } from '../../problem.ts';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export function apiKeyGuard(
  keys: readonly string[],
  throttle: SignInThrottle,
): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const known = keys.map(digest);
  return async (req, reply) => {
    const locked = throttle.lockedOut(req, reply);
    if (locked) throw locked;
    const presented = presentedKey(req);
    let ok = 0;
    if (presented !== undefined) {
      const candidate = digest(presented);
      for (const key of known) ok |= timingSafeEqual(candidate, key) ? 1 : 0;
    }
    if (ok !== 1) {
      const over = presented !== undefined ? await throttle.failed(req, reply, 'api-key') : null;
      if (over) throw over;
      reply.header('www-authenticate', 'Bearer realm="conduit"');
      throw new HttpProblem(
        401,
        'unauthorized',
        'Missing or invalid API key',
        'send the API key as "Authorization: Bearer <key>" (one of CONDUIT_API_KEYS)',
      );
    }
  };
}

function presentedKey(req: FastifyRequest): string | undefined {
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1];
  }
  const header = req.headers['x-api-key'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}
