// One token read as the HTTP surface does it: through the token service, then logged with the
// hashed owner and counted; a failure becomes problem details. Shared by the routes and the proxy.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '@conduit/runtime';
import type { Tokens } from './create.ts';
import { AccessTokenError, tokenProblem, unavailable } from './problems.ts';
import type { TokenReadResult } from './token-metrics.ts';
import type { AccessTokenAnswer } from './token-service.ts';

export async function readToken(
  ctx: AppContext,
  tokens: Tokens,
  req: FastifyRequest,
  reply: FastifyReply,
  connectionId: string,
  opts: { forceRefresh?: boolean; via: 'api' | 'proxy' },
): Promise<AccessTokenAnswer> {
  const keyName = req.apiKey?.name;
  // Not req.log: routes naming an owner in their path log at warn, and every read must be logged.
  const log = ctx.logger.child({ reqId: req.id });
  try {
    const answer = await withDeadline(
      tokens.service.read(connectionId, { forceRefresh: opts.forceRefresh === true }),
      ctx.config.integration.tokenReadTimeoutMs,
    );
    const result: TokenReadResult =
      answer.forced === 'performed' ? 'forced' : answer.forced === 'shared' ? 'forced_shared' : 'ok';
    tokens.reads.inc({ provider: answer.provider, result, via: opts.via });
    log.info(
      {
        connectionId,
        provider: answer.provider,
        owner: ctx.hashOwner(answer.ownerId),
        keyName,
        via: opts.via,
        result,
        expiresAt: answer.expiresAt,
      },
      'token: read',
    );
    return answer;
  } catch (err) {
    const view = await tokens.service.view(connectionId).catch(() => null);
    const provider = view?.provider ?? 'unknown';
    const fields = {
      connectionId,
      provider,
      ...(view !== null && { owner: ctx.hashOwner(view.ownerId) }),
      keyName,
      via: opts.via,
    };
    if (err instanceof AccessTokenError) {
      tokens.reads.inc({ provider, result: err.code, via: opts.via });
      log.warn({ ...fields, result: err.code, detail: err.message }, 'token: refused');
      throw tokenProblem(err, view, reply, ctx.config.api.publicUrl);
    }
    // Postgres or Redis unreachable, most likely: the caller should come back, not give up.
    tokens.reads.inc({ provider, result: 'unavailable', via: opts.via });
    log.error({ ...fields, result: 'unavailable', err: (err as Error).message }, 'token: read failed');
    throw unavailable(reply, 'Conduit cannot read or refresh tokens right now; try again shortly');
  }
}

class DeadlineExceeded extends Error {
  constructor(ms: number) {
    super(`no token within ${ms} ms (CONDUIT_TOKEN_READ_TIMEOUT_MS); Postgres or Redis may be unreachable`);
    this.name = 'DeadlineExceeded';
  }
}

/** The read goes on in the background (a refresh under way must be allowed to commit); the caller stops waiting. */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(ms)), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
