// The HTTP surface, as Fastify plugins: each feature registers its own routes.
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AppContext } from '@conduit/runtime';
import { duplicateFailFast } from '@conduit/jobs';
import { problemClientError } from './edge/client-error.ts';
import { refuseBadText } from './edge/input-text.ts';
import { registerRequestLog } from './edge/request-log.ts';
import { registerSecurityHeaders } from './edge/security-headers.ts';
import { createSignInThrottle } from './edge/sign-in-throttle.ts';
import { adminPlugin } from './plugins/admin/index.ts';
import { benchBaselineEnabled, benchBaselinePlugin } from './plugins/bench-baseline.ts';
import { connectPlugin } from './plugins/connect/index.ts';
import { healthPlugin } from './plugins/health.ts';
import { landingPlugin } from './plugins/landing.ts';
import { createApiMetrics, metricsPlugin } from './plugins/metrics.ts';
import { webhooksPlugin } from './plugins/webhooks/index.ts';
import { HttpProblem, installProblemHandler, problemFrom, sendProblem } from './problem.ts';
import { registerOpenApi } from './plugins/openapi/index.ts';
import { createTokens } from './plugins/tokens/create.ts';
import { tokensPlugin } from './plugins/tokens/index.ts';
import { meetingsPlugin } from './plugins/meetings/index.ts';
import { proxyPlugin } from './plugins/proxy/index.ts';

export async function buildServer(ctx: AppContext): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger and Fastify's logger interface differ only in generics.
    loggerInstance: ctx.logger as unknown as FastifyBaseLogger,
    // one line per request instead, written when the answer has gone (edge/request-log.ts)
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: ctx.config.api.webhookMaxBodyBytes,
    trustProxy: ctx.config.runtime.isProduction,
    // Unknown properties are refused (400 naming them), never silently dropped, and every
    // problem of a request is reported at once.
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
    clientErrorHandler: problemClientError,
    // A path that is not valid percent-encoding (e.g. /v1/connections/%E0%A4%A).
    frameworkErrors: (err, req, reply) =>
      sendProblem(
        reply,
        problemFrom(
          new HttpProblem(
            400,
            'malformed-url',
            'The URL is not valid',
            `${err.message}; percent-encode the path as UTF-8`,
          ),
          req,
        ),
      ),
  });
  installProblemHandler(app);
  registerRequestLog(app);
  app.addHook('preValidation', refuseBadText);
  await registerSecurityHeaders(app, { production: ctx.config.runtime.isProduction });
  // Not global: only failed sign-ins are counted, nothing else; in Redis, shared by every api
  // process. Its clients fail fast instead of waiting for a reconnect: a sign-in is answered,
  // counted or not, when Redis is down or hung (edge/sign-in-throttle.ts).
  const signIn = ctx.config.api.signIn;
  const signInStore = duplicateFailFast(ctx.redis, signIn.storeTimeoutMs);
  const lockoutFeed = ctx.redis.duplicate();
  app.addHook('onClose', () => {
    signInStore.disconnect();
    lockoutFeed.disconnect();
  });
  const prefix = ctx.config.redis.queuePrefix;
  await app.register(rateLimit, {
    global: false,
    redis: signInStore,
    nameSpace: `${prefix}:sign-in-failures:`,
    skipOnError: true,
  });
  app.decorate(
    'signInThrottle',
    createSignInThrottle(app, signIn, {
      publisher: signInStore,
      subscriber: lockoutFeed,
      name: `${prefix}:sign-in-lockouts`,
    }),
  );
  await registerOpenApi(app);
  await app.register(healthPlugin, { ctx });
  await app.register(landingPlugin);
  const metrics = createApiMetrics(ctx);
  app.decorate('metrics', metrics);
  await app.register(metricsPlugin, {
    metrics,
    ...(ctx.config.security.metricsToken !== undefined && { token: ctx.config.security.metricsToken }),
  });
  await app.register(adminPlugin, { ctx });
  await app.register(connectPlugin, { ctx });
  await app.register(webhooksPlugin, { ctx });
  const tokens = createTokens(ctx, metrics);
  app.addHook('onClose', () => tokens.close());
  await app.register(tokensPlugin, { ctx, tokens });
  await app.register(meetingsPlugin, { ctx });
  await app.register(proxyPlugin, { ctx, tokens });
  if (benchBaselineEnabled()) await app.register(benchBaselinePlugin, { ctx });
  return app;
}
