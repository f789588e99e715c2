// RFC 9457 problem details: every error this API returns has this shape, whoever raised it — our
// handlers, schema validation, Fastify's router, a plugin (rate limit, Bull Board), or Node's
// HTTP parser (edge/client-error.ts).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { allowedMethods } from './edge/allowed-methods.ts';
import { datastoreUnavailable } from './edge/datastore-errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the route relays another server's answer (the provider proxy): its errors pass unchanged */
    providerAnswer?: boolean;
  }
}
import { validationProblem } from './edge/validation-detail.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export const TYPE_BASE = 'https://conduit.dev/problems/';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
    this.name = 'HttpProblem';
  }
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** The path alone: query strings may name owners, and never belong in an error body. */
export function instanceOf(url: string): string {
  return url.split('?')[0] ?? '/';
}

export function problemFrom(err: HttpProblem, req: { url: string }): Problem {
  return {
    type: TYPE_BASE + err.slug,
    title: err.title,
    status: err.status,
    ...(err.detail && { detail: err.detail }),
    instance: instanceOf(req.url),
    ...err.extensions,
  };
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  408: 'Request timeout',
  413: 'Payload too large',
  414: 'URI too long',
  415: 'Unsupported media type',
  429: 'Too many requests',
  431: 'Request header fields too large',
  500: 'Internal error',
  503: 'Service unavailable',
};

export function statusTitle(status: number): string {
  return STATUS_TITLES[status] ?? (status >= 500 ? 'Internal error' : 'Request refused');
}

/** Maps thrown errors (ours, validation, Fastify's own) to problem details; never leaks internals. */
export function handleError(err: FastifyError | HttpProblem, req: FastifyRequest, reply: FastifyReply) {
  if (err instanceof HttpProblem) return sendProblem(reply, problemFrom(err, req));
  if ((err as FastifyError).validation) {
    return sendProblem(reply, validationProblem(err as FastifyError, instanceOf(req.url)));
  }
  const unavailable = datastoreUnavailable(err);
  if (unavailable) {
    req.log.warn(
      { err: err.message, datastore: unavailable.datastore },
      'request failed: datastore unavailable',
    );
    if (unavailable.status === 503) reply.header('retry-after', '5');
    return sendProblem(reply, problemFrom(unavailable.problem, req));
  }
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
  if (status >= 500) req.log.error({ err }, 'request failed');
  return sendProblem(reply, {
    type: status >= 500 ? TYPE_BASE + 'internal' : TYPE_BASE + (err.code ?? 'error').toLowerCase(),
    title: status >= 500 ? 'Internal error' : statusTitle(status),
    status,
    ...(status < 500 && { detail: err.message }),
    instance: instanceOf(req.url),
  });
}

export function installProblemHandler(app: FastifyInstance): void {
  const methods = allowedMethods(app);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((req, reply) => {
    const path = instanceOf(req.url);
    const allowed = methods(path);
    if (allowed.length > 0 && !allowed.includes(req.method)) {
      return sendProblem(reply.header('allow', allowed.join(', ')), {
        type: TYPE_BASE + 'method-not-allowed',
        title: 'Method not allowed',
        status: 405,
        detail: `${path} answers ${allowed.join(', ')}, not ${req.method}`,
        instance: path,
      });
    }
    return sendProblem(reply, {
      type: TYPE_BASE + 'not-found',
      title: 'Not found',
      status: 404,
      detail: `no route for ${req.method} ${path}`,
      instance: path,
    });
  });
  // Whatever answers an error without our handler (Bull Board's API and error handler, a plugin's
  // own reply) is rewritten as problem details. A 4xx keeps its fields as extensions (Bull
  // Board's UI reads its `error.key`); a 5xx keeps nothing, since it may carry internals.
  app.addHook('onSend', async (req, reply, payload) => {
    if (reply.statusCode < 400 || req.routeOptions.config.providerAnswer === true) return payload;
    const type = String(reply.getHeader('content-type') ?? '');
    // Problem details already, or a page written for a person (the OAuth popup's error page).
    if (type.startsWith(PROBLEM_CONTENT_TYPE) || type.startsWith('text/html')) return payload;
    const status = reply.statusCode;
    const original = status < 500 ? fieldsOf(payload) : {};
    if (status >= 500)
      req.log.error({ status, url: instanceOf(req.url) }, 'error answered outside the problem handler');
    if (isStream(payload)) payload.destroy();
    reply.type(PROBLEM_CONTENT_TYPE);
    reply.removeHeader('content-length');
    const { type: _t, title: _ti, status: _s, detail, instance: _i, ...rest } = original;
    return JSON.stringify({
      ...rest,
      type: TYPE_BASE + (status >= 500 ? 'internal' : `http-${status}`),
      title: statusTitle(status),
      status,
      ...(status < 500 && {
        detail: describe(detail ?? original.message ?? original.error) ?? statusTitle(status),
      }),
      instance: instanceOf(req.url),
    } satisfies Problem);
  });
}

function isStream(payload: unknown): payload is { destroy(): void } {
  return (
    typeof payload === 'object' &&
    payload !== null &&
    typeof (payload as { pipe?: unknown }).pipe === 'function'
  );
}

function fieldsOf(payload: unknown): Record<string, unknown> {
  const text =
    typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : '';
  if (text === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return { detail: text.slice(0, 200) };
  }
}

/** A message, or Bull Board's `{ key: 'ERRORS.QUEUE_NOT_FOUND' }`. */
function describe(value: unknown): string | undefined {
  if (typeof value === 'string') return value.slice(0, 500);
  if (typeof value === 'object' && value !== null && typeof (value as { key?: unknown }).key === 'string') {
    return (value as { key: string }).key;
  }
  return undefined;
}
