// RFC 9457 problem details: every error this API returns has this shape.
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

const TYPE_BASE = 'https://conduit.dev/problems/';

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
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

/** Maps thrown errors (ours, validation, Fastify's own) to problem details; never leaks internals. */
export function installProblemHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HttpProblem, req, reply) => {
    if (err instanceof HttpProblem) {
      return sendProblem(reply, {
        type: TYPE_BASE + err.slug,
        title: err.title,
        status: err.status,
        ...(err.detail && { detail: err.detail }),
        instance: req.url.split('?')[0],
        ...err.extensions,
      });
    }
    if (err.validation) {
      return sendProblem(reply, {
        type: TYPE_BASE + 'invalid-request',
        title: 'The request is not valid',
        status: 400,
        detail: err.message,
        instance: req.url.split('?')[0],
      });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    return sendProblem(reply, {
      type: status >= 500 ? TYPE_BASE + 'internal' : TYPE_BASE + (err.code ?? 'error').toLowerCase(),
      title: status >= 500 ? 'Internal error' : err.message,
      status,
      ...(status < 500 && { detail: err.message }),
      instance: req.url.split('?')[0],
    });
  });
  app.setNotFoundHandler((req, reply) =>
    sendProblem(reply, {
      type: TYPE_BASE + 'not-found',
      title: 'Not found',
      status: 404,
      detail: `no route for ${req.method} ${req.url.split('?')[0]}`,
      instance: req.url.split('?')[0],
    }),
  );
}
