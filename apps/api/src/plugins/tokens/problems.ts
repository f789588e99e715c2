// A token that cannot be had, as problem details with a stable `code` an application can switch
// on. The message says why; it never holds a token, and a reconnect says where to start one.
import type { FastifyReply } from 'fastify';
import type { TokenView } from '@conduit/db';
import { AccessTokenError } from '@conduit/jobs';
import { HttpProblem } from '../../problem.ts';

/** Retry-After when the failure did not say how long (e.g. Postgres or Redis unreachable). */
const DEFAULT_RETRY_AFTER_SECONDS = 5;

export type TokenFailureCode = AccessTokenError['code'];

/** How the application sends its user back through consent for this connection. */
export function reconnectOf(view: TokenView, publicUrl: string) {
  return {
    method: 'POST' as const,
    url: `${publicUrl}/v1/connect/${view.provider}/start`,
    body: { ownerId: view.ownerId, ...(view.teamId !== null && { teamId: view.teamId }) },
  };
}

export function tokenProblem(
  err: AccessTokenError,
  view: TokenView | null,
  reply: FastifyReply,
  publicUrl: string,
): HttpProblem {
  switch (err.code) {
    case 'not_found':
      return new HttpProblem(404, 'connection-not-found', 'No such connection', err.message, {
        code: 'not_found',
      });
    case 'not_connected':
    case 'needs_reauth':
      return new HttpProblem(
        409,
        err.code === 'needs_reauth' ? 'needs-reauth' : 'not-connected',
        err.code === 'needs_reauth' ? 'The user must reconnect' : 'The connection holds no usable token',
        err.message,
        {
          code: err.code,
          ...(view !== null && {
            reconnectUrl: reconnectOf(view, publicUrl).url,
            reconnect: reconnectOf(view, publicUrl),
          }),
        },
      );
    case 'connection_error':
      return new HttpProblem(409, 'connection-error', 'The connection is in error', err.message, {
        code: 'connection_error',
      });
    case 'unavailable':
      return unavailable(reply, err.message, err.retryAfterMs);
  }
}

export function unavailable(reply: FastifyReply, detail: string, retryAfterMs?: number): HttpProblem {
  const seconds = Math.max(1, Math.ceil((retryAfterMs ?? DEFAULT_RETRY_AFTER_SECONDS * 1000) / 1000));
  reply.header('retry-after', String(seconds));
  return new HttpProblem(503, 'unavailable', 'No token can be had right now', detail, {
    code: 'unavailable',
    retryAfterSeconds: seconds,
  });
}

export { AccessTokenError };
