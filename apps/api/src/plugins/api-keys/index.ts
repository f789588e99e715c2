// API keys for /v1: who is calling (authentication) and what that key may do (its scopes). Every
// route in an authenticated scope names the one scope it needs in its route config; a route
// that names none fails the server's start, so nothing is reachable by forgetting to say.
//
//   app.register(async (scoped) => {
//     useApiKeys(scoped, ctx.config.security.apiKeys);
//     scoped.get('/v1/x', { config: { scope: 'connections:read' } }, handler);
//   });
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiKey, ApiScope } from '@conduit/config';
import '../../edge/sign-in-throttle.ts';
import { HttpProblem } from '../../problem.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the API-key scope this route needs */
    scope?: ApiScope;
  }
  interface FastifyRequest {
    /** the key that authenticated this request (its name is safe to log) */
    apiKey?: { name: string; scopes: readonly ApiScope[] };
  }
}

export function useApiKeys(app: FastifyInstance, keys: readonly ApiKey[]): void {
  const known = keys.map((k) => ({ key: k, digest: Buffer.from(k.sha256, 'hex') }));
  app.addHook('onRoute', (route) => {
    const scope = (route.config as { scope?: ApiScope } | undefined)?.scope;
    if (scope === undefined && route.method !== 'HEAD') {
      throw new Error(
        `${String(route.method)} ${route.url}: an API-key route must name its scope in config.scope`,
      );
    }
  });
  // A wrong key counts as a failed sign-in of the client (keys have no names to count by); past
  // the limit, 429 (edge/sign-in-throttle.ts).
  const throttle = app.signInThrottle;
  app.addHook('onRequest', async (req, reply) => {
    const locked = throttle.lockedOut(req, reply);
    if (locked) throw locked;
    const presented = presentedKey(req);
    let match: ApiKey | undefined;
    if (presented !== undefined) {
      const candidate = createHash('sha256').update(presented, 'utf8').digest();
      // Every key is compared every time, in constant time, so timing says nothing about which.
      for (const k of known) if (timingSafeEqual(candidate, k.digest)) match ??= k.key;
    }
    if (match === undefined) {
      const over = presented !== undefined ? await throttle.failed(req, reply, 'api-key') : null;
      if (over) throw over;
      reply.header('www-authenticate', 'Bearer realm="conduit"');
      throw new HttpProblem(
        401,
        'unauthorized',
        'Missing or invalid API key',
        'send the API key as "Authorization: Bearer <key>" (its SHA-256 must be one of CONDUIT_API_KEYS)',
        { code: 'unauthorized' },
      );
    }
    req.apiKey = { name: match.name, scopes: match.scopes };
    const needed = req.routeOptions.config.scope;
    if (needed === undefined || !match.scopes.includes(needed)) {
      reply.header(
        'www-authenticate',
        `Bearer realm="conduit", error="insufficient_scope", scope="${needed ?? ''}"`,
      );
      throw new HttpProblem(
        403,
        'insufficient-scope',
        'The API key may not do this',
        `the key "${match.name}" lacks the scope ${needed ?? '(none declared)'}; add it to the key's entry in CONDUIT_API_KEYS (name:scope+scope:sha256hex)`,
        { code: 'insufficient_scope', requiredScope: needed ?? null },
      );
    }
  });
}

function presentedKey(req: FastifyRequest): string | undefined {
  const authorization = req.headers.authorization;
  if (authorization !== undefined && authorization !== '') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1];
  }
  const header = req.headers['x-api-key'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}
