// The provider proxy: `ALL /v1/proxy/:connectionId/<path>` goes to <the provider's API base>/<path>
// with the connection's access token injected (read under the same rules as the token API).
// A 401 forces one refresh (limited per connection like any forced refresh) and one retry.
// The provider's status, body and rate-limit headers come back as they were. Bodies, answers
// and time are bounded by configuration; the path is judged by core's proxyTarget, so nothing
// but that provider's API base is ever reached. Needs an API key with `tokens:read`: using the
// proxy is as strong as holding the token.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import { proxyTarget } from '@conduit/core';
import { ProxyClient, type ProxyAnswer } from '@conduit/providers';
import { endpointsOf, type AppContext } from '@conduit/runtime';
import { HttpProblem } from '../../problem.ts';
import { useApiKeys } from '../api-keys/index.ts';
import { API_KEY_SECURITY, problems, uuidParam } from '../openapi/shared-schemas.ts';
import type { Tokens } from '../tokens/create.ts';
import { readToken } from '../tokens/read-token.ts';
import { outgoingHeaders, returnedHeaders } from './headers.ts';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export interface ProxyPluginOptions {
  ctx: AppContext;
  tokens: Tokens;
}

export async function proxyPlugin(app: FastifyInstance, { ctx, tokens }: ProxyPluginOptions) {
  useApiKeys(app, ctx.config.security.apiKeys);
  const limits = ctx.config.integration;
  const client = new ProxyClient({
    timeoutMs: limits.proxyTimeoutMs,
    connectTimeoutMs: ctx.config.timings.httpConnectTimeoutMs,
    maxResponseBytes: limits.proxyMaxResponseBytes,
    userAgent: ctx.config.providers.userAgent,
  });
  app.addHook('onClose', () => client.close());
  const requests = new Counter({
    name: 'conduit_proxy_requests_total',
    help: 'Requests through the provider proxy, by provider and outcome (the provider status, or timeout, too_large, unreachable).',
    labelNames: ['provider', 'outcome'] as const,
    registers: [app.metrics.conduit.registry],
  });

  // The body goes on untouched, whatever it is: no JSON parsing here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: limits.proxyMaxBodyBytes },
    (_req, body, done) => done(null, body),
  );

  app.route<{ Params: { connectionId: string; '*': string } }>({
    method: [...METHODS],
    url: '/v1/proxy/:connectionId/*',
    bodyLimit: limits.proxyMaxBodyBytes,
    // the provider's own errors are its answer: passed back as they came, not as problem details
    config: { scope: 'tokens:read', providerAnswer: true },
    schema: {
      summary: "Call the connection's provider with its token injected",
      description:
        "Forwards to the provider's API base + the path (query included). Send provider headers prefixed with conduit-provider- (e.g. conduit-provider-x-github-api-version). A 401 forces one refresh and one retry. Answers keep the provider's status, body and rate-limit headers; Conduit's own failures are problem details (400 invalid_path, 413, 502 provider_unreachable / provider_response_too_large, 504 provider_timeout).",
      tags: ['proxy'],
      security: API_KEY_SECURITY,
      params: {
        type: 'object',
        required: ['connectionId', '*'],
        properties: { connectionId: uuidParam, '*': { type: 'string' } },
      },
      response: problems(400, 401, 403, 404, 409, 413, 502, 503, 504),
    },
    handler: async (req, reply) => {
      const started = performance.now();
      const { connectionId } = req.params;
      const view = await tokens.service.view(connectionId);
      if (view === null) {
        throw new HttpProblem(
          404,
          'connection-not-found',
          'No such connection',
          `there is no connection ${connectionId}`,
          {
            code: 'not_found',
          },
        );
      }
      const target = proxyTarget(
        endpointsOf(ctx.config, view.provider).apiBaseUrl,
        rawPathOf(req, connectionId),
      );
      if (!target.ok) {
        throw new HttpProblem(400, 'invalid-proxy-path', 'The proxy path is not allowed', target.reason, {
          code: 'invalid_path',
        });
      }
      const body = Buffer.isBuffer(req.body) ? req.body : undefined;
      const headers = outgoingHeaders(req.headers);
      const send = (accessToken: string) =>
        client.send({
          url: target.url,
          method: req.method,
          headers: { ...headers, authorization: `Bearer ${accessToken}` },
          body,
        });

      let token = await readToken(ctx, tokens, req, reply, connectionId, { via: 'proxy' });
      let answer = await send(token.accessToken);
      let retried = false;
      if (answer.kind === 'answer' && answer.status === 401) {
        // The provider refused a token that looked valid: one forced refresh, one retry.
        token = await readToken(ctx, tokens, req, reply, connectionId, { forceRefresh: true, via: 'proxy' });
        answer = await send(token.accessToken);
        retried = true;
      }

      const outcome = answer.kind === 'answer' ? String(answer.status) : answer.kind;
      requests.inc({ provider: view.provider, outcome });
      ctx.logger.info(
        {
          reqId: req.id,
          connectionId,
          provider: view.provider,
          owner: ctx.hashOwner(view.ownerId),
          keyName: req.apiKey?.name,
          method: req.method,
          path: target.url.pathname,
          outcome,
          retried,
          durationMs: Math.round(performance.now() - started),
        },
        'proxy',
      );
      return relay(reply, answer, retried);
    },
  });
}

/** What followed `/v1/proxy/<id>/` in the request line, still percent-encoded as sent. */
function rawPathOf(req: FastifyRequest, connectionId: string): string {
  const raw = req.raw.url ?? '';
  const prefix = `/v1/proxy/${connectionId}/`;
  if (!raw.startsWith(prefix)) {
    throw new HttpProblem(
      400,
      'invalid-proxy-path',
      'The proxy path is not allowed',
      'write the connection id plainly, not percent-encoded',
      {
        code: 'invalid_path',
      },
    );
  }
  return raw.slice(prefix.length);
}

function relay(reply: FastifyReply, answer: ProxyAnswer, retried: boolean) {
  switch (answer.kind) {
    case 'answer':
      reply.code(answer.status).headers(returnedHeaders(answer.headers));
      if (retried) reply.header('conduit-proxy-retried', 'true');
      return reply.send(answer.body);
    case 'too_large':
      throw new HttpProblem(
        502,
        'provider-response-too-large',
        "The provider's answer is too large",
        `the provider answered ${answer.status} with more than ${answer.maxBytes} bytes (CONDUIT_PROXY_MAX_RESPONSE_BYTES)`,
        { code: 'provider_response_too_large' },
      );
    case 'timeout':
      throw new HttpProblem(504, 'provider-timeout', 'The provider did not answer in time', answer.detail, {
        code: 'provider_timeout',
      });
    case 'unreachable':
      throw new HttpProblem(502, 'provider-unreachable', 'The provider could not be reached', answer.detail, {
        code: 'provider_unreachable',
      });
  }
}
